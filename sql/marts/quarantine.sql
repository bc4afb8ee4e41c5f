-- quarantine
-- Input that a landing step refused: the file, the record and field inside it, and why.
-- Everything else beside it was landed. Empty when all input was good. A record of an export
-- file without a delivery date is seen by every day's partition: it is listed once, with the
-- first partition that refused it. `account_id` and `subject_arn` say whose input it was (the
-- incomplete-account model reads them).
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
        max(quarantined_at) as quarantined_at,
        -- the same for every row of a group: what the file and record are about
        max(account_id) as account_id,
        max(subject_arn) as subject_arn
    from quarantined
    group by source, file, record, field, reason
)

select * from final
