-- Every raw row that left the model, with the reason and the related record (the surviving record
-- of a merge, the parent of a history row). BI and auditors read this; nothing leaves silently.
with

excluded as (
    select * from {{ ref('int_source_rows_excluded') }}
),

final as (
    select
        source_table || ':' || record_id || ':' || cast(
            row_number() over (partition by source_table, record_id order by exclusion_reason)
            as {{ dbt.type_string() }}
        ) as excluded_row_key,
        source_table,
        record_id,
        exclusion_reason,
        related_record_id
    from excluded
)

select * from final
