"""Collect: read an AWS organization live (boto3) into a dated snapshot folder in the AWS CLI's
file layout. The first layer of the data flow; may import only `pipelines.lib.lake`."""
