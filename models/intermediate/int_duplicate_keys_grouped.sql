-- One row per duplicate rule × record that shares its normalized match key with another record of
-- the same object (keys from int_duplicate_keys_normalized; records with no key are not grouped).
with

normalized as (
    select * from {{ ref('int_duplicate_keys_normalized') }}
),

rules as (
    select * from {{ ref('duplicate_rules') }}
),

grouped as (
    select
        *,
        count(*) over (partition by rule_id, match_key) as group_size
    from normalized
    where match_key is not null
),

final as (
    select
        grouped.rule_id || ':' || grouped.record_id as duplicate_member_id,
        grouped.rule_id,
        grouped.object_name,
        grouped.record_id,
        grouped.rule_id || ':' || grouped.match_key as duplicate_group_id,
        grouped.match_key,
        grouped.group_size,
        rules.severity,
        rules.owner_role
    from grouped
    inner join rules
        on grouped.rule_id = rules.rule_id
    where grouped.group_size > 1
)

select * from final
