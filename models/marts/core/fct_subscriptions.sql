-- One row per Stripe subscription (its current version), resolved to a company, with MRR: the sum
-- over its items of quantity × unit price normalized to a month, counted only while the status
-- counts toward MRR (stripe_subscription_statuses seed); null when no item's price is known.
with

subscriptions as (
    select * from {{ ref('stg_stripe__subscriptions') }}
    where exclusion_reason is null
),

items as (
    select * from {{ ref('int_subscription_items_priced') }}
),

customers as (
    select * from {{ ref('int_stripe_customers_resolved') }}
),

statuses as (
    select * from {{ ref('stripe_subscription_statuses') }}
),

item_summary as (
    select
        subscription_id,
        count(*) as item_count,
        sum(quantity) as total_quantity,
        sum(monthly_amount) as monthly_amount,
        min(currency) as currency,
        count(distinct currency) as currency_count,
        max(case when has_unknown_price then 1 else 0 end) = 1 as has_unknown_price
    from items
    group by subscription_id
),

final as (
    select
        subscriptions.subscription_id,
        subscriptions.customer_id,
        customers.account_key,
        customers.crm_account_id,
        customers.customer_id is null as has_orphaned_customer,
        subscriptions.status,
        coalesce(statuses.counts_toward_mrr, false) as counts_toward_mrr,
        coalesce(item_summary.item_count, 0) as item_count,
        item_summary.total_quantity,
        item_summary.currency,
        coalesce(item_summary.currency_count > 1, false) as has_mixed_currencies,
        coalesce(item_summary.has_unknown_price, false) as has_unknown_price,
        -- The known items' amounts (has_unknown_price flags a partial sum); null, never a silent 0,
        -- when no item has a known price.
        case
            when item_summary.subscription_id is null then 0
            else item_summary.monthly_amount
        end as monthly_amount,
        case
            when not coalesce(statuses.counts_toward_mrr, false) then 0
            when item_summary.subscription_id is null then 0
            else item_summary.monthly_amount
        end as mrr,
        subscriptions.created_at,
        subscriptions.started_at,
        subscriptions.current_period_started_at,
        subscriptions.current_period_ends_at,
        subscriptions.is_cancel_at_period_end,
        subscriptions.canceled_at,
        subscriptions.ended_at,
        subscriptions.trial_started_at,
        subscriptions.trial_ends_at,
        subscriptions.is_livemode
    from subscriptions
    left join item_summary
        on subscriptions.subscription_id = item_summary.subscription_id
    left join customers
        on subscriptions.customer_id = customers.customer_id
    left join statuses
        on subscriptions.status = statuses.status
)

select * from final
