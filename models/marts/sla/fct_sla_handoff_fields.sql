-- One row per SLA instance × field its policy says must accompany the handoff
-- (sla_policies.handoff_required_fields), with the field's value at the moment the clock started,
-- reconstructed from history: for a lead, the new value of the field's last LeadHistory change at
-- or before the start, else the old value of its first change after it, else today's value; for an
-- opportunity, the value on its last OpportunityHistory row at or before the start for the fields
-- that history carries (amount, close_date), else today's value. Generated from the seed rows.
{%- set policies = revops_seed_rows('sla_policies', 'policy_id') %}
{%- set current_relations = {
    'lead': ref('stg_salesforce__leads'),
    'opportunity': ref('fct_opportunities'),
} %}
{%- set current_keys = {'lead': 'lead_id', 'opportunity': 'opportunity_id'} %}
{%- set opportunity_history_fields = ['amount', 'close_date'] %}

with

instances as (
    select * from {{ ref('fct_sla_instances') }}
),

lead_values_at_events as (
    select * from {{ ref('int_lead_field_values_reconstructed') }}
),

opportunity_changes as (
    select * from {{ ref('stg_salesforce__opportunity_changes') }}
    where exclusion_reason is null
),

dictionary as (
    select * from {{ ref('data_dictionary') }}
),

opportunity_rows_at_start as (
    select
        instances.sla_instance_id,
        max(opportunity_changes.changed_at) as snapshot_at
    from instances
    inner join opportunity_changes
        on
            instances.record_id = opportunity_changes.opportunity_id
            and opportunity_changes.changed_at <= instances.started_at
    where instances.object_name = 'opportunity'
    group by instances.sla_instance_id
),

opportunity_snapshots as (
    select
        opportunity_rows_at_start.sla_instance_id,
        max(cast(opportunity_changes.amount as {{ dbt.type_string() }})) as amount,
        max(cast(opportunity_changes.close_date as {{ dbt.type_string() }})) as close_date
    from opportunity_rows_at_start
    inner join instances
        on opportunity_rows_at_start.sla_instance_id = instances.sla_instance_id
    inner join opportunity_changes
        on
            instances.record_id = opportunity_changes.opportunity_id
            and opportunity_rows_at_start.snapshot_at = opportunity_changes.changed_at
    group by opportunity_rows_at_start.sla_instance_id
),

fields as (
    {%- set selects = [] %}
    {%- for policy in policies if policy['handoff_required_fields'] %}
    {%- set object_name = policy['start_object'] %}
    {%- if object_name not in current_relations %}
        {{ exceptions.raise_compiler_error("sla_policies row " ~ policy['policy_id'] ~ ": handoff fields are supported for lead and opportunity, not '" ~ object_name ~ "'") }}
    {%- endif %}
    {%- for field in policy['handoff_required_fields'].split('|') %}
    {%- set field = field | trim %}
    {%- if execute %}
        {%- set columns = adapter.get_columns_in_relation(current_relations[object_name]) | map(attribute='name') | map('lower') | list %}
        {%- if field | lower not in columns %}
            {{ exceptions.raise_compiler_error("sla_policies row " ~ policy['policy_id'] ~ ": handoff field '" ~ field ~ "' is not a column of " ~ current_relations[object_name]) }}
        {%- endif %}
    {%- endif %}
    {%- set select %}
    select
        instances.sla_instance_id,
        '{{ field }}' as field_name,
        {%- if object_name == 'lead' %}
        case
            when lead_values_at_events.event_source_id is not null then lead_values_at_events.value_at_event
            else cast(current_values.{{ field }} as {{ dbt.type_string() }})
        end as value_at_start,
        lead_values_at_events.event_source_id is not null as is_from_history
        {%- elif field in opportunity_history_fields %}
        case
            when opportunity_snapshots.sla_instance_id is not null then opportunity_snapshots.{{ field }}
            else cast(current_values.{{ field }} as {{ dbt.type_string() }})
        end as value_at_start,
        opportunity_snapshots.sla_instance_id is not null as is_from_history
        {%- else %}
        cast(current_values.{{ field }} as {{ dbt.type_string() }}) as value_at_start,
        false as is_from_history
        {%- endif %}
    from instances
    left join {{ current_relations[object_name] }} as current_values
        on instances.record_id = current_values.{{ current_keys[object_name] }}
    {%- if object_name == 'lead' %}
    left join dictionary
        on
            dictionary.object = 'lead'
            and dictionary.field = '{{ field }}'
    left join lead_values_at_events
        on
            instances.start_event_source_id = lead_values_at_events.event_source_id
            and replace(lower(coalesce(dictionary.source_field, '{{ field }}')), '_', '') = lead_values_at_events.field_key
    {%- else %}
    left join opportunity_snapshots
        on instances.sla_instance_id = opportunity_snapshots.sla_instance_id
    {%- endif %}
    where instances.policy_id = '{{ policy["policy_id"] }}'
    {%- endset %}
    {%- do selects.append(select) %}
    {%- endfor %}
    {%- endfor %}
    {%- if selects | length == 0 %}
    select
        cast(null as {{ dbt.type_string() }}) as sla_instance_id,
        cast(null as {{ dbt.type_string() }}) as field_name,
        cast(null as {{ dbt.type_string() }}) as value_at_start,
        false as is_from_history
    where 1 = 0
    {%- else %}
    {{ selects | join('\n    union all\n') }}
    {%- endif %}
),

final as (
    select
        fields.sla_instance_id || ':' || fields.field_name as handoff_field_id,
        fields.sla_instance_id,
        instances.policy_id,
        instances.object_name,
        instances.record_id,
        instances.started_at,
        fields.field_name,
        nullif(trim(fields.value_at_start), '') as value_at_start,
        fields.is_from_history,
        nullif(trim(fields.value_at_start), '') is null as is_missing_at_handoff
    from fields
    inner join instances
        on fields.sla_instance_id = instances.sla_instance_id
)

select * from final
