-- Per workspace, how posts in each bucket of a feature perform: post counts, mean and median engagement rate and
-- views of their latest snapshots. Bucket labels sort in their natural order.

with

performance as (

    select * from {{ ref('fct_clip_performance') }}

),

features as (

    select workspace_id, 'duration' as feature, duration_bucket as bucket, engagement_rate, views
    from performance

    union all

    select workspace_id, 'hook_type' as feature, hook_type as bucket, engagement_rate, views
    from performance

    union all

    select workspace_id, 'caption_style' as feature, coalesce(caption_style, 'unknown') as bucket, engagement_rate, views
    from performance

    union all

    select
        workspace_id,
        'posting_hour' as feature,
        coalesce(lpad(cast(posting_hour_local as varchar), 2, '0'), 'unknown') as bucket,
        engagement_rate,
        views
    from performance

    union all

    select
        workspace_id,
        'score_quintile' as feature,
        coalesce('q' || score_quintile, 'unknown') as bucket,
        engagement_rate,
        views
    from performance

),

final as (

    select
        workspace_id,
        feature,
        bucket,
        count(*) as posts,
        count(engagement_rate) as measured_posts,
        avg(engagement_rate) as mean_engagement_rate,
        cast(median(engagement_rate) as double) as median_engagement_rate,
        avg(views) as mean_views,
        cast(median(views) as double) as median_views

    from features
    group by workspace_id, feature, bucket

)

select * from final
