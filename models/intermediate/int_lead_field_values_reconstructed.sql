-- The value each tracked lead field had at the moment of each lead status entry (the start events
-- of lead SLA policies), reconstructed from LeadHistory: the new value of the field's last change
-- at or before the moment, else the old value of its first change after it. Only fields with
-- history appear; without history, today's value is the value at any moment. One place for the
-- rule, read by fct_sla_instances (owner at the clock's start) and fct_sla_handoff_fields.
with

events as (
    select * from {{ ref('int_sla_events_unioned') }}
    where object_name = 'lead' and event_type = 'status_entered'
),

field_changes as (
    select * from {{ ref('fct_lead_field_changes') }}
),

changes_around_event as (
    select
        events.event_source_id,
        events.record_id as lead_id,
        field_changes.field_key,
        max(case when field_changes.changed_at <= events.event_at then field_changes.changed_at end)
            as last_before_at,
        min(case when field_changes.changed_at > events.event_at then field_changes.changed_at end)
            as first_after_at
    from events
    inner join field_changes
        on events.record_id = field_changes.lead_id
    group by events.event_source_id, events.record_id, field_changes.field_key
),

final as (
    select
        changes_around_event.event_source_id,
        changes_around_event.field_key,
        -- Ties (two changes at one timestamp) resolve to the greater value: deterministic.
        max(
            case
                when changes_around_event.last_before_at is not null
                    then
                        case
                            when field_changes.changed_at = changes_around_event.last_before_at
                                then field_changes.new_value
                        end
                when field_changes.changed_at = changes_around_event.first_after_at
                    then field_changes.old_value
            end
        ) as value_at_event
    from changes_around_event
    inner join field_changes
        on
            changes_around_event.lead_id = field_changes.lead_id
            and changes_around_event.field_key = field_changes.field_key
    group by changes_around_event.event_source_id, changes_around_event.field_key
)

select * from final
