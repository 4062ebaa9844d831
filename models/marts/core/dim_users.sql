with

users as (
    select * from {{ ref('stg_salesforce__users') }}
),

roles as (
    select * from {{ ref('int_user_roles_leveled') }}
),

time_zone_regions as (
    select * from {{ ref('time_zone_regions') }}
),

user_types as (
    select * from {{ ref('user_types') }}
),

final as (
    select
        users.user_id,
        users.user_name,
        users.first_name,
        users.last_name,
        users.email,
        users.is_active,
        users.user_type,
        coalesce(user_types.is_person, false) as is_person,
        users.time_zone,
        time_zone_regions.calendar_region,
        users.user_role_id,
        roles.role_name,
        -- The owner's team is their role; the division is the role's top-level branch.
        roles.role_name as team_name,
        roles.division_name,
        users.manager_user_id,
        managers.user_name as manager_name,
        users.department,
        users.title,
        users.created_at
    from users
    left join roles
        on users.user_role_id = roles.user_role_id
    left join time_zone_regions
        on users.time_zone = time_zone_regions.time_zone
    left join user_types
        on users.user_type = user_types.user_type
    left join users as managers
        on users.manager_user_id = managers.user_id
)

select * from final
