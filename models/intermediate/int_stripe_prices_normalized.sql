-- Prices and legacy plans as one lookup: amounts in major units (Stripe stores minor units; the
-- currency_minor_units seed lists currencies whose exponent is not 2), and the factor that turns
-- one billing period's amount into a monthly amount. Recurring prices are also served by the
-- Plans API under the same id: a plan whose id is a price is the same object and is not repeated.
with

prices as (
    select * from {{ ref('stg_stripe__prices') }}
),

plans as (
    select * from {{ ref('stg_stripe__plans') }}
),

minor_units as (
    select * from {{ ref('currency_minor_units') }}
),

unioned as (
    select
        price_id as price_key,
        'price' as price_object,
        product_id,
        unit_amount_minor,
        currency,
        billing_interval,
        billing_interval_count,
        is_active,
        is_deleted
    from prices
    union all
    select
        plans.plan_id as price_key,
        'plan' as price_object,
        plans.product_id,
        plans.unit_amount_minor,
        plans.currency,
        plans.billing_interval,
        plans.billing_interval_count,
        plans.is_active,
        plans.is_deleted
    from plans
    left join prices
        on plans.plan_id = prices.price_id
    where prices.price_id is null
),

final as (
    select
        unioned.price_key,
        unioned.price_object,
        unioned.product_id,
        unioned.unit_amount_minor / power(10, coalesce(minor_units.minor_unit_exponent, 2)) as unit_amount,
        unioned.currency,
        unioned.billing_interval,
        unioned.billing_interval_count,
        unioned.billing_interval is not null as is_recurring,
        {{ monthly_factor('unioned.billing_interval', 'unioned.billing_interval_count') }} as monthly_factor,
        unioned.is_active,
        unioned.is_deleted
    from unioned
    left join minor_units
        on unioned.currency = minor_units.currency
)

select * from final
