with

source as (

    select * from {{ source('publishing', 'publications') }}

),

renamed as (

    select
        -- keys
        cast(publication_id as varchar) as publication_id,
        cast(file_day as date) as snapshot_day,
        cast(workspace_id as varchar) as workspace_id,
        cast(account_id as varchar) as account_id,
        cast(platform as varchar) as platform,
        cast(post_id as varchar) as post_id,
        cast(clip_ref as varchar) as clip_ref,
        cast(clip_id as varchar) as clip_id,
        cast(source_partition as varchar) as source_partition,

        -- the post
        cast(post_url as varchar) as post_url,
        cast(published_at as timestamptz) as published_at,
        cast(posting_hour_local as integer) as posting_hour_local,

        -- the clip's features
        cast(duration_s as double) as duration_s,
        cast(caption_style as varchar) as caption_style,
        cast(hook_text as varchar) as hook_text,
        cast(score as double) as score,
        cast(score_hook as double) as score_hook,
        cast(score_flow as double) as score_flow,
        cast(score_value as double) as score_value,
        cast(score_energy as double) as score_energy

    from source

)

select * from renamed
