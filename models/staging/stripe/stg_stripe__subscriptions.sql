with

source as (
    select
        {{ staged_columns('stripe', 'subscription') }}
    from {{ source('stripe', 'subscription') }}
),

renamed as (
    select
        id as subscription_id,
        customer_id,
        lower({{ clean_text('status') }}) as status,
        created as created_at,
        start_date as started_at,
        current_period_start as current_period_started_at,
        current_period_end as current_period_ends_at,
        coalesce(cancel_at_period_end, false) as is_cancel_at_period_end,
        canceled_at,
        ended_at,
        trial_start as trial_started_at,
        trial_end as trial_ends_at,
        coalesce(livemode, true) as is_livemode,
        _fivetran_synced as synced_at,
        coalesce(_fivetran_deleted, false) as is_deleted,
        -- History-mode loaders keep every version; only the active one is the subscription today.
        {{ exclusion_reason(
            is_deleted='_fivetran_deleted',
            is_current_version='_fivetran_active',
            is_livemode='livemode',
        ) }} as exclusion_reason
    from source
)

select * from renamed
