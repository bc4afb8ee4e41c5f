"""The embedded demo AWS organization: the generator of data/demo, the inputs of the data flow."""
