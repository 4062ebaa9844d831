-- One row per record × rule it fails today (as of the as_of var), with the field, the owner and
-- team who must fix it, and how many days it has been failing. Rules: the data dictionary
-- (required from a stage, allowed values, formats), the duplicate rules, staleness (stage targets
-- × the stale multiple of the aging_buckets seed), SLA breaches, handoff completeness (fields an
-- SLA policy requires at the handoff, empty when the clock started), and routing (open records
-- owned by an inactive user, a queue or nobody; leads reassigned while an SLA clock ran).
with

records as (
    select * from {{ ref('int_hygiene_records_unioned') }}
),

field_checks as (
    select * from {{ ref('int_field_rules_evaluated') }}
),

duplicates as (
    select * from {{ ref('int_duplicate_keys_grouped') }}
),

aging as (
    select * from {{ ref('fct_stage_aging') }}
),

sla_instances as (
    select * from {{ ref('fct_sla_instances') }}
),

handoff_fields as (
    select * from {{ ref('fct_sla_handoff_fields') }}
),

owner_changes as (
    select * from {{ ref('fct_lead_field_changes') }}
    where field_name = 'owner'
),

lead_statuses as (
    select * from {{ ref('fct_lead_status_history') }}
),

opportunity_stages as (
    select * from {{ ref('fct_opportunity_stage_history') }}
),

stage_entries as (
    select
        'lead' as object_name,
        lead_id as record_id,
        status_order as stage_order,
        entered_at
    from lead_statuses
    union all
    select
        'opportunity' as object_name,
        opportunity_id as record_id,
        stage_order,
        entered_at
    from opportunity_stages
),

-- A required-from-stage rule has failed since the record first reached that stage or a later one.
field_failures as (
    select
        field_checks.object_name,
        field_checks.record_id,
        field_checks.rule_id,
        case
            when field_checks.is_missing_required then 'missing_required_field'
            when field_checks.is_value_not_allowed then 'value_not_allowed'
            else 'invalid_format'
        end as failure_type,
        field_checks.field_name,
        field_checks.severity,
        field_checks.owner_role as rule_owner_role,
        min(stage_entries.entered_at) as first_in_scope_at
    from field_checks
    left join stage_entries
        on
            field_checks.object_name = stage_entries.object_name
            and field_checks.record_id = stage_entries.record_id
            and field_checks.required_from_stage_order <= stage_entries.stage_order
    where field_checks.is_missing_required or field_checks.is_value_not_allowed or field_checks.is_format_invalid
    group by 1, 2, 3, 4, 5, 6, 7
),

failures as (
    select
        field_failures.object_name,
        field_failures.record_id,
        field_failures.rule_id,
        field_failures.failure_type,
        field_failures.field_name,
        field_failures.severity,
        field_failures.rule_owner_role,
        coalesce(field_failures.first_in_scope_at, records.created_at) as failing_since
    from field_failures
    inner join records
        on
            field_failures.object_name = records.object_name
            and field_failures.record_id = records.record_id
    union all
    select
        duplicates.object_name,
        duplicates.record_id,
        duplicates.rule_id,
        'duplicate' as failure_type,
        cast(null as {{ dbt.type_string() }}) as field_name,
        duplicates.severity,
        duplicates.owner_role as rule_owner_role,
        records.created_at as failing_since
    from duplicates
    inner join records
        on
            duplicates.object_name = records.object_name
            and duplicates.record_id = records.record_id
    union all
    select
        aging.object_name,
        aging.record_id,
        'stale_open_record' as rule_id,
        'stale' as failure_type,
        cast(null as {{ dbt.type_string() }}) as field_name,
        'warn' as severity,
        cast(null as {{ dbt.type_string() }}) as rule_owner_role,
        {{ dbt.dateadd(
            'minute',
            'cast(round((aging.stale_after_days - aging.days_since_last_touch) * 1440) as '
            ~ dbt.type_bigint() ~ ')',
            as_of_timestamp()
        ) }} as failing_since
    from aging
    where aging.is_stale
    union all
    select
        sla_instances.object_name,
        sla_instances.record_id,
        sla_instances.policy_id as rule_id,
        'sla_breach' as failure_type,
        cast(null as {{ dbt.type_string() }}) as field_name,
        'error' as severity,
        sla_instances.escalation_role as rule_owner_role,
        min(sla_instances.due_at) as failing_since
    from sla_instances
    where sla_instances.is_breached
    group by 1, 2, 3, 4, 5, 6, 7
    union all
    -- Handoff completeness: a field the policy requires at the handoff was empty when the clock
    -- started (reconstructed from history in fct_sla_handoff_fields).
    select
        handoff_fields.object_name,
        handoff_fields.record_id,
        handoff_fields.policy_id || ':' || handoff_fields.field_name as rule_id,
        'handoff_incomplete' as failure_type,
        handoff_fields.field_name,
        'warn' as severity,
        min(sla_instances.escalation_role) as rule_owner_role,
        min(handoff_fields.started_at) as failing_since
    from handoff_fields
    inner join sla_instances
        on handoff_fields.sla_instance_id = sla_instances.sla_instance_id
    where handoff_fields.is_missing_at_handoff
    group by 1, 2, 3, 4, 5, 6
    union all
    -- Routing: the owner changed while an SLA clock was running (after the start, before the end
    -- event or as_of), so the clock's responsible owner is not who started it.
    select
        sla_instances.object_name,
        sla_instances.record_id,
        'routing_reassigned_after_sla_start' as rule_id,
        'routing' as failure_type,
        cast(null as {{ dbt.type_string() }}) as field_name,
        'warn' as severity,
        min(sla_instances.escalation_role) as rule_owner_role,
        min(owner_changes.changed_at) as failing_since
    from sla_instances
    inner join owner_changes
        on
            sla_instances.record_id = owner_changes.lead_id
            and sla_instances.started_at < owner_changes.changed_at
            and owner_changes.changed_at <= coalesce(sla_instances.met_at, {{ as_of_timestamp() }})
    where sla_instances.object_name = 'lead'
    group by 1, 2, 3, 4, 5, 6
    union all
    select
        records.object_name,
        records.record_id,
        case
            when records.owner_id is null then 'routing_no_owner'
            when not records.is_owner_a_user then 'routing_queue_owner'
            else 'routing_inactive_owner'
        end as rule_id,
        'routing' as failure_type,
        cast(null as {{ dbt.type_string() }}) as field_name,
        'error' as severity,
        cast(null as {{ dbt.type_string() }}) as rule_owner_role,
        records.last_changed_at as failing_since
    from records
    where
        -- Routing concerns records in a stage path (leads, opportunities) that are still open.
        records.is_open
        and records.stage_name is not null
        and (records.owner_id is null or not records.is_owner_a_user or not records.is_owner_active)
),

final as (
    select
        failures.object_name || ':' || failures.record_id || ':' || failures.rule_id as failing_record_id,
        cast({{ as_of_date() }} as date) as as_of_date,
        failures.object_name,
        failures.record_id,
        records.stage_name,
        failures.rule_id,
        failures.failure_type,
        failures.field_name,
        failures.severity,
        failures.rule_owner_role,
        records.owner_id,
        records.owner_name,
        records.owner_team,
        failures.failing_since,
        greatest(
            {{ dbt.datediff('failures.failing_since', as_of_timestamp(), 'day') }}, 0
        ) as days_failing
    from failures
    left join records
        on
            failures.object_name = records.object_name
            and failures.record_id = records.record_id
)

select * from final
