-- quarantine
-- Input that a landing step refused: the file, the record and field inside it, and why.
-- Everything else beside it was landed. Empty when all input was good.
-- grain: source, file, record, field

with quarantined as (
    select * from raw_quarantine
),

final as (
    select source, file, record, field, reason, partition, quarantined_at
    from quarantined
)

select * from final
