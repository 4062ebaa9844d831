-- SLA adherence per policy, owner team and week the clock started (weeks start on Monday, UTC).
-- Adherence counts the instances whose outcome is known (met or breached, open ones past due);
-- instances still open within target are counted apart, not as met.
with

instances as (
    select * from {{ ref('fct_sla_instances') }}
),

weekly as (
    select
        policy_id,
        policy_name,
        coalesce(owner_team, 'unknown') as owner_team,
        cast({{ dbt.date_trunc('week', 'started_at') }} as date) as week_start_date,
        count(*) as instance_count,
        sum(case when sla_status = 'met' then 1 else 0 end) as met_count,
        sum(case when sla_status = 'breached' then 1 else 0 end) as breached_count,
        sum(case when sla_status = 'open_breached' then 1 else 0 end) as open_breached_count,
        sum(case when sla_status = 'open_within_target' then 1 else 0 end) as open_within_target_count,
        sum(case when sla_status = 'calendar_missing' then 1 else 0 end) as calendar_missing_count,
        sum(case when is_breached then business_minutes_late else 0 end) as total_business_minutes_late
    from instances
    group by 1, 2, 3, 4
),

final as (
    select
        policy_id || ':' || owner_team || ':' || cast(week_start_date as {{ dbt.type_string() }})
            as adherence_week_id,
        *,
        cast(met_count as {{ dbt.type_numeric() }})
        / nullif(met_count + breached_count + open_breached_count, 0) as adherence_rate
    from weekly
)

select * from final
