-- quarantine
-- Input that a landing step refused: the file, the record and field inside it, and why.
-- Everything else beside it was landed. Empty when all input was good. A record of an export
-- file without a delivery date is seen by every day's partition: it is listed once, with the
-- first partition that refused it.
-- grain: source, file, record, field, reason

with quarantined as (
    select * from raw_quarantine
),

final as (
    select
        source,
        file,
        record,
        field,
        reason,
        min(partition) as partition,
        max(quarantined_at) as quarantined_at
    from quarantined
    group by source, file, record, field, reason
)

select * from final
