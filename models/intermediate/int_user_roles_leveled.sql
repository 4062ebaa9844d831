-- The role hierarchy: each role with its parent and its division (the ancestor just below
-- the root), walked with a fixed number of joins (portable; no recursive CTE).
with

roles as (
    select * from {{ ref('stg_salesforce__user_roles') }}
),

{%- set depth = var('role_hierarchy_max_depth') | int %}

level_0 as (
    select
        user_role_id,
        user_role_id as ancestor_role_id,
        parent_role_id as ancestor_parent_role_id,
        0 as role_depth
    from roles
),
{%- for level in range(1, depth + 1) %}

    level_{{ level }} as (
        select
            level_{{ level - 1 }}.user_role_id,
            case
                when parents.parent_role_id is not null then parents.user_role_id
                else level_{{ level - 1 }}.ancestor_role_id
            end as ancestor_role_id,
            coalesce(parents.parent_role_id, level_{{ level - 1 }}.ancestor_parent_role_id) as ancestor_parent_role_id,
            level_{{ level - 1 }}.role_depth
            + case when parents.parent_role_id is not null then 1 else 0 end as role_depth
        from level_{{ level - 1 }}
        left join roles as parents
            on level_{{ level - 1 }}.ancestor_parent_role_id = parents.user_role_id
    ),
{%- endfor %}

final as (
    select
        roles.user_role_id,
        roles.role_name,
        roles.parent_role_id,
        parent_roles.role_name as parent_role_name,
        top_level.ancestor_role_id as division_role_id,
        division_roles.role_name as division_name,
        top_level.role_depth as levels_below_division
    from roles
    inner join level_{{ depth }} as top_level
        on roles.user_role_id = top_level.user_role_id
    left join roles as parent_roles
        on roles.parent_role_id = parent_roles.user_role_id
    left join roles as division_roles
        on top_level.ancestor_role_id = division_roles.user_role_id
)

select * from final
