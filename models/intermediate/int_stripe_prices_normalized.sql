-- Prices and legacy plans as one lookup, with the factor that turns one billing period's amount
-- into a monthly amount.
with

prices as (
    select * from {{ ref('stg_stripe__prices') }}
    where exclusion_reason is null
),

plans as (
    select * from {{ ref('stg_stripe__plans') }}
    where exclusion_reason is null
),

unioned as (
    select
        price_id as price_key,
        'price' as price_object,
        product_id,
        unit_amount,
        currency,
        billing_interval,
        billing_interval_count,
        is_active
    from prices
    union all
    select
        plan_id as price_key,
        'plan' as price_object,
        product_id,
        unit_amount,
        currency,
        billing_interval,
        billing_interval_count,
        is_active
    from plans
),

final as (
    select
        *,
        {{ monthly_factor('billing_interval', 'billing_interval_count') }} as monthly_factor
    from unioned
)

select * from final
