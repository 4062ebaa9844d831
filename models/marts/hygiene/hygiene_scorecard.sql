{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='as_of_date',
    on_schema_change='append_new_columns',
    full_refresh=var('rebuild_hygiene_history', false),
) }}
-- The weekly CRM hygiene scorecard BI reads. Grain: as-of date × object × stage × owner (with
-- team) × lead source × creator type (person or integration). Each run adds or replaces the rows
-- of its as-of date (incremental, delete+insert on as_of_date), so re-running a day is idempotent
-- and earlier snapshots stay; `dbt build --full-refresh` keeps them too unless the var
-- rebuild_hygiene_history is true. Scores: hygiene_score_thresholds seed; the overall score is
-- the weakest metric's (a scorecard is as good as its worst enforced rule).
with

records as (
    select * from {{ ref('int_hygiene_records_unioned') }}
),

field_checks as (
    select * from {{ ref('int_field_rules_evaluated') }}
),

failing as (
    select * from {{ ref('hygiene_failing_records') }}
),

aging as (
    select * from {{ ref('fct_stage_aging') }}
),

sla_instances as (
    select * from {{ ref('fct_sla_instances') }}
),

thresholds as (
    select * from {{ ref('hygiene_score_thresholds') }}
),

record_fields as (
    select
        object_name,
        record_id,
        sum(case when is_in_scope and is_required then 1 else 0 end) as required_checks,
        sum(case when is_missing_required then 1 else 0 end) as required_missing,
        sum(case when is_value_not_allowed or is_format_invalid then 1 else 0 end) as invalid_values
    from field_checks
    group by object_name, record_id
),

record_failures as (
    select
        object_name,
        record_id,
        max(case when failure_type = 'duplicate' then 1 else 0 end) as is_duplicate,
        max(case when failure_type = 'routing' then 1 else 0 end) as has_routing_failure,
        max(case when failure_type = 'handoff_incomplete' then 1 else 0 end) as has_handoff_failure
    from failing
    group by object_name, record_id
),

record_sla as (
    select
        object_name,
        record_id,
        sum(case when sla_status in ('met', 'breached', 'open_breached') then 1 else 0 end) as sla_decided,
        sum(case when sla_status = 'met' then 1 else 0 end) as sla_met
    from sla_instances
    group by object_name, record_id
),

judged as (
    select
        records.*,
        coalesce(record_fields.required_checks, 0) as required_checks,
        coalesce(record_fields.required_missing, 0) as required_missing,
        coalesce(record_fields.invalid_values, 0) as invalid_values,
        coalesce(record_failures.is_duplicate, 0) as is_duplicate,
        coalesce(record_failures.has_routing_failure, 0) as has_routing_failure,
        coalesce(record_failures.has_handoff_failure, 0) as has_handoff_failure,
        case when aging.record_id is not null then 1 else 0 end as is_aging_tracked,
        case when aging.is_stale then 1 else 0 end as is_stale,
        coalesce(record_sla.sla_decided, 0) as sla_decided,
        coalesce(record_sla.sla_met, 0) as sla_met,
        {{ dbt.datediff(
            'records.last_changed_at', as_of_timestamp(), 'day'
        ) }} as days_since_change
    from records
    left join record_fields
        on
            records.object_name = record_fields.object_name
            and records.record_id = record_fields.record_id
    left join record_failures
        on
            records.object_name = record_failures.object_name
            and records.record_id = record_failures.record_id
    left join aging
        on
            records.object_name = aging.object_name
            and records.record_id = aging.record_id
    left join record_sla
        on
            records.object_name = record_sla.object_name
            and records.record_id = record_sla.record_id
),

cells as (
    select
        cast({{ as_of_date() }} as date) as as_of_date,
        object_name,
        coalesce(stage_name, 'n/a') as stage_name,
        coalesce(owner_id, 'none') as owner_id,
        max(owner_name) as owner_name,
        owner_team,
        lead_source,
        created_by_type,
        count(*) as records_in_scope,
        sum(case when is_rule_checked then 1 else 0 end) as records_rule_checked,
        avg(days_since_change) as avg_days_since_change,
        max(days_since_change) as max_days_since_change,
        sum(required_checks) as required_field_checks,
        sum(required_checks - required_missing) as required_fields_filled,
        sum(required_missing) as required_fields_missing,
        sum(invalid_values) as invalid_values,
        sum(is_duplicate) as duplicate_records,
        sum(is_aging_tracked) as open_records_tracked,
        sum(is_stale) as stale_records,
        sum(sla_decided) as sla_instances_decided,
        sum(sla_met) as sla_instances_met,
        sum(has_routing_failure) as routing_failures,
        sum(has_handoff_failure) as handoff_failures
    from judged
    group by
        object_name,
        coalesce(stage_name, 'n/a'),
        coalesce(owner_id, 'none'),
        owner_team,
        lead_source,
        created_by_type
),

rated as (
    select
        cast(as_of_date as {{ dbt.type_string() }}) || '|' || object_name || '|' || stage_name || '|'
        || owner_id || '|' || owner_team || '|' || lead_source || '|' || created_by_type as scorecard_row_id,
        *,
        cast(required_fields_filled as {{ dbt.type_numeric() }}) / nullif(required_field_checks, 0)
            as completion_rate,
        cast(duplicate_records as {{ dbt.type_numeric() }}) / nullif(records_rule_checked, 0) as duplicate_rate,
        cast(stale_records as {{ dbt.type_numeric() }}) / nullif(open_records_tracked, 0) as stale_rate,
        cast(sla_instances_met as {{ dbt.type_numeric() }}) / nullif(sla_instances_decided, 0) as sla_adherence
    from cells
),

healths as (
    select
        rated.*,
        rated.completion_rate as completion_health,
        1 - rated.duplicate_rate as duplicates_health,
        1 - rated.stale_rate as staleness_health,
        rated.sla_adherence as sla_health
    from rated
),

metric_healths as (
    select
        scorecard_row_id,
        'completion' as metric,
        completion_health as health
    from healths
    union all
    select
        scorecard_row_id,
        'duplicates' as metric,
        duplicates_health as health
    from healths
    union all
    select
        scorecard_row_id,
        'staleness' as metric,
        staleness_health as health
    from healths
    union all
    select
        scorecard_row_id,
        'sla' as metric,
        sla_health as health
    from healths
),

-- The highest score whose threshold the health reaches; 1 below every threshold; null unmeasured.
metric_scores as (
    select
        metric_healths.scorecard_row_id,
        metric_healths.metric,
        case
            when metric_healths.health is not null then coalesce(max(thresholds.score), 1)
        end as score
    from metric_healths
    left join thresholds
        on
            metric_healths.metric = thresholds.metric
            and metric_healths.health >= thresholds.min_health
    group by metric_healths.scorecard_row_id, metric_healths.metric, metric_healths.health
),

pivoted_scores as (
    select
        scorecard_row_id,
        max(case when metric = 'completion' then score end) as completion_score,
        max(case when metric = 'duplicates' then score end) as duplicates_score,
        max(case when metric = 'staleness' then score end) as staleness_score,
        max(case when metric = 'sla' then score end) as sla_score
    from metric_scores
    group by scorecard_row_id
),

scored as (
    select
        healths.*,
        pivoted_scores.completion_score,
        pivoted_scores.duplicates_score,
        pivoted_scores.staleness_score,
        pivoted_scores.sla_score
    from healths
    inner join pivoted_scores
        on healths.scorecard_row_id = pivoted_scores.scorecard_row_id
),

final as (
    select
        scorecard_row_id,
        as_of_date,
        object_name,
        stage_name,
        owner_id,
        owner_name,
        owner_team,
        lead_source,
        created_by_type,
        records_in_scope,
        records_rule_checked,
        avg_days_since_change,
        max_days_since_change,
        required_field_checks,
        required_fields_filled,
        required_fields_missing,
        completion_rate,
        invalid_values,
        duplicate_records,
        duplicate_rate,
        open_records_tracked,
        stale_records,
        stale_rate,
        sla_instances_decided,
        sla_instances_met,
        sla_adherence,
        routing_failures,
        handoff_failures,
        completion_score,
        duplicates_score,
        staleness_score,
        sla_score,
        case
            when coalesce(completion_score, duplicates_score, staleness_score, sla_score) is not null
                then least(
                        coalesce(completion_score, 5),
                        coalesce(duplicates_score, 5),
                        coalesce(staleness_score, 5),
                        coalesce(sla_score, 5)
                    )
        end as hygiene_score
    from scored
)

select * from final
