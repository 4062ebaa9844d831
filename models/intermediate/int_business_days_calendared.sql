-- One row per business calendar region and day: whether it is a working day (its weekday is in
-- the region's working_weekdays and it is not a holiday), its working hours in local time, and
-- running totals of working days and working minutes. Business-time arithmetic (SLA due times,
-- business days in stage) becomes a join by date and a subtraction, Zendesk-style, instead of a
-- row-by-row loop, so it stays fast at millions of instances.
{%- set first_day = "cast('" ~ var('calendar_first_year') ~ "-01-01' as date)" %}
{%- set last_day = "cast('" ~ var('calendar_last_year') ~ "-12-31' as date)" %}

with

calendars as (
    select * from {{ ref('business_calendars') }}
),

holidays as (
    select * from {{ ref('int_holidays_combined') }}
),

spine as (
    {{ revops_date_spine(first_day, last_day) }}
),

days as (
    select
        calendars.calendar_region,
        spine.calendar_date,
        {{ iso_weekday('spine.calendar_date') }} as iso_weekday,
        {{ hhmm_to_minutes('calendars.workday_start') }} as workday_start_minute,
        {{ hhmm_to_minutes('calendars.workday_end') }} as workday_end_minute,
        holidays.holiday_name,
        '|' || calendars.working_weekdays || '|' like
        '%|' || cast({{ iso_weekday('spine.calendar_date') }} as {{ dbt.type_string() }}) || '|%'
            as is_working_weekday
    from calendars
    cross join spine
    left join holidays
        on
            calendars.calendar_region = holidays.calendar_region
            and spine.calendar_date = holidays.holiday_date
),

flagged as (
    select
        *,
        is_working_weekday and holiday_name is null as is_working_day
    from days
),

final as (
    select
        calendar_region || ':' || cast(calendar_date as {{ dbt.type_string() }}) as business_day_id,
        calendar_region,
        calendar_date,
        iso_weekday,
        is_working_day,
        holiday_name,
        workday_start_minute,
        workday_end_minute,
        case when is_working_day then workday_end_minute - workday_start_minute else 0 end
            as working_minutes,
        sum(case when is_working_day then 1 else 0 end) over (
            partition by calendar_region
            order by calendar_date
            rows between unbounded preceding and current row
        ) as working_day_number,
        coalesce(sum(case when is_working_day then workday_end_minute - workday_start_minute else 0 end) over (
            partition by calendar_region
            order by calendar_date
            rows between unbounded preceding and 1 preceding
        ), 0) as working_minutes_before
    from flagged
)

select * from final
