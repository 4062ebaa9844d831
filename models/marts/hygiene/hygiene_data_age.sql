{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='as_of_date',
    on_schema_change='append_new_columns',
    full_refresh=var('rebuild_hygiene_history', false),
) }}
-- Data age of the scorecard's records: how many records of each object, stage and owner fall in
-- each bucket of days since their last change (data_age_buckets seed). One snapshot per as-of
-- date, kept like hygiene_scorecard's.
with

records as (
    select * from {{ ref('int_hygiene_records_unioned') }}
),

buckets as (
    select * from {{ ref('data_age_buckets') }}
),

aged as (
    select
        *,
        {{ dbt.datediff(
            'last_changed_at', as_of_timestamp(), 'day'
        ) }} as days_since_change
    from records
),

final as (
    select
        cast({{ as_of_date() }} as {{ dbt.type_string() }}) || '|' || aged.object_name || '|'
        || coalesce(aged.stage_name, 'n/a') || '|' || coalesce(aged.owner_id, 'none') || '|'
        || buckets.bucket_name as data_age_row_id,
        cast({{ as_of_date() }} as date) as as_of_date,
        aged.object_name,
        coalesce(aged.stage_name, 'n/a') as stage_name,
        coalesce(aged.owner_id, 'none') as owner_id,
        max(aged.owner_team) as owner_team,
        buckets.bucket_name as data_age_bucket,
        buckets.bucket_order,
        count(*) as records
    from aged
    inner join buckets
        on
            aged.days_since_change >= buckets.min_days
            and (buckets.max_days is null or aged.days_since_change < buckets.max_days)
    group by 1, 2, 3, 4, 5, 7, 8
)

select * from final
