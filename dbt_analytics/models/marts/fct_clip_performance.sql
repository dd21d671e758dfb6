-- One row per published publication: its latest snapshot's counts and rates beside the clip's features and their
-- buckets. A publication not measured yet has NULL counts.

with

publications as (

    select * from {{ ref('int_publications_latest') }}

),

engagement as (

    select * from {{ ref('fct_clip_engagement') }}

),

latest_snapshot as (

    select * from engagement
    qualify row_number() over (partition by publication_id order by snapshot_day desc) = 1

),

joined as (

    select
        -- keys
        publications.publication_id,
        publications.workspace_id,
        publications.account_id,
        publications.platform,
        publications.post_id,

        -- the post and its clip
        publications.post_url,
        publications.published_at,
        publications.published_day,
        publications.clip_ref,
        publications.source_partition,
        publications.clip_id,
        publications.duration_s,
        publications.caption_style,
        publications.hook_text,
        publications.score,
        publications.score_hook,
        publications.score_flow,
        publications.score_value,
        publications.score_energy,
        publications.posting_hour_local,

        -- the latest snapshot
        latest_snapshot.snapshot_day as latest_snapshot_day,
        latest_snapshot.captured_at,
        date_diff('day', publications.published_day, latest_snapshot.snapshot_day) as days_since_post,
        latest_snapshot.views,
        latest_snapshot.likes,
        latest_snapshot.comments,
        latest_snapshot.shares,
        latest_snapshot.saves,
        latest_snapshot.avg_view_duration_s,
        latest_snapshot.retention,
        latest_snapshot.interactions,
        latest_snapshot.engagement_rate,
        {{ per_view('latest_snapshot.likes', 'latest_snapshot.views') }} as like_rate,
        {{ per_view('latest_snapshot.comments', 'latest_snapshot.views') }} as comment_rate,
        {{ per_view('latest_snapshot.shares', 'latest_snapshot.views') }} as share_rate,
        {{ per_view('latest_snapshot.saves', 'latest_snapshot.views') }} as save_rate

    from publications
    left join latest_snapshot on publications.publication_id = latest_snapshot.publication_id

),

final as (

    select
        *,
        {{ duration_bucket('duration_s') }} as duration_bucket,
        {{ hook_type('hook_text') }} as hook_type,
        -- quintile of the selector's score among the workspace's scored posts (1 = lowest)
        case
            when score is not null
                then ntile(5) over (partition by workspace_id, score is null order by score, publication_id)
        end as score_quintile

    from joined

)

select * from final
