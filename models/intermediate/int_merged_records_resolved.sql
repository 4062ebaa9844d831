-- Every CRM account, contact and lead id (surviving, merged or deleted) mapped to the record that
-- survives today, so references to merged-away records (opportunities on a merged account, tasks
-- on a merged lead) land on the survivor.
with

accounts as (
    select * from {{ ref('stg_salesforce__accounts') }}
),

contacts as (
    select * from {{ ref('stg_salesforce__contacts') }}
),

leads as (
    select * from {{ ref('stg_salesforce__leads') }}
),

records as (
    select
        'account' as object_name,
        account_id as record_id,
        master_record_id,
        exclusion_reason,
        synced_at
    from accounts
    union all
    select
        'contact' as object_name,
        contact_id as record_id,
        master_record_id,
        exclusion_reason,
        synced_at
    from contacts
    union all
    select
        'lead' as object_name,
        lead_id as record_id,
        master_record_id,
        exclusion_reason,
        synced_at
    from leads
),

{{ merge_chain_hops('records', latest='synced_at') }},

final as (
    select
        hop_final.object_name,
        hop_final.record_id,
        case
            when survivor.record_id is not null and survivor.exclusion_reason is null
                then hop_final.current_record_id
        end as surviving_record_id,
        hop_final.merge_depth,
        case
            when survivor.record_id is null then 'merged_into_missing_record'
            when survivor.master_record_id is not null then 'chain_too_long'
            when hop_final.merge_depth = 0 and survivor.exclusion_reason is not null
                then survivor.exclusion_reason
            when survivor.exclusion_reason is not null then 'merged_into_deleted_record'
            when hop_final.merge_depth = 0 then 'surviving'
            else 'merged'
        end as resolution_status,
        -- Latest loader timestamp on the chain, survivor included: a record whose resolution changed
        -- has a record on its chain synced since (incremental models downstream use it).
        {{ revops_later_of('hop_final.chain_synced_at', 'survivor.synced_at') }} as chain_synced_at
    from hop_final
    left join records as survivor
        on
            hop_final.object_name = survivor.object_name
            and hop_final.current_record_id = survivor.record_id
)

select * from final
