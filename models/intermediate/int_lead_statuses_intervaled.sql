-- One row per stretch of time a lead spent in one status, from LeadHistory. The first interval
-- starts at the lead's creation in the status the first Status change left (or, with no change,
-- the current status); it absorbs the 'created' history row. Consecutive changes into the same
-- status fold into one interval (history_row_count says how many source rows it holds).
with

leads as (
    select * from {{ ref('stg_salesforce__leads') }}
    where exclusion_reason is null
),

field_changes as (
    select * from {{ ref('stg_salesforce__lead_field_changes') }}
    where exclusion_reason is null
),

-- The tracked-field names are Salesforce's API names, not business rules.
status_changes as (
    select
        field_changes.lead_id,
        field_changes.lead_history_id,
        field_changes.old_value,
        field_changes.new_value as lead_status,
        field_changes.changed_at
    from field_changes
    inner join leads
        on field_changes.lead_id = leads.lead_id
    where field_changes.field_name = 'status'
),

created_rows as (
    select
        field_changes.lead_id,
        count(*) as history_row_count
    from field_changes
    inner join leads
        on field_changes.lead_id = leads.lead_id
    where field_changes.field_name = 'created'
    group by field_changes.lead_id
),

ranked_status_changes as (
    select
        lead_id,
        old_value,
        row_number() over (
            partition by lead_id order by changed_at, lead_history_id
        ) as change_number
    from status_changes
),

first_status_change as (
    select
        lead_id,
        old_value as initial_status
    from ranked_status_changes
    where change_number = 1
),

initial_status as (
    select
        leads.lead_id,
        cast(null as {{ dbt.type_string() }}) as lead_history_id,
        coalesce(first_status_change.initial_status, leads.lead_status) as lead_status,
        leads.created_at as changed_at,
        coalesce(created_rows.history_row_count, 0) as history_row_count
    from leads
    left join first_status_change
        on leads.lead_id = first_status_change.lead_id
    left join created_rows
        on leads.lead_id = created_rows.lead_id
),

all_changes as (
    select * from initial_status
    union all
    select
        lead_id,
        lead_history_id,
        lead_status,
        changed_at,
        1 as history_row_count
    from status_changes
),

with_previous as (
    select
        *,
        lag(lead_status) over (
            partition by lead_id order by changed_at, lead_history_id nulls first
        ) as previous_row_status
    from all_changes
),

flagged as (
    select
        *,
        case when previous_row_status = lead_status then 0 else 1 end as is_status_start
    from with_previous
),

numbered as (
    select
        *,
        sum(is_status_start) over (
            partition by lead_id
            order by changed_at, lead_history_id nulls first
            rows between unbounded preceding and current row
        ) as interval_number
    from flagged
),

intervals as (
    select
        lead_id,
        interval_number,
        min(lead_status) as lead_status,
        min(changed_at) as entered_at,
        sum(history_row_count) as history_row_count
    from numbered
    group by lead_id, interval_number
),

final as (
    select
        lead_id || '-' || cast(interval_number as {{ dbt.type_string() }}) as status_interval_id,
        lead_id,
        interval_number,
        lead_status,
        entered_at,
        lead(entered_at) over (partition by lead_id order by interval_number) as exited_at,
        lead(lead_status) over (partition by lead_id order by interval_number) as next_lead_status,
        lag(lead_status) over (partition by lead_id order by interval_number) as previous_lead_status,
        history_row_count
    from intervals
)

select * from final
