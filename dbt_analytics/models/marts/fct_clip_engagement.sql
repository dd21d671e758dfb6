-- One row per publication per snapshot day: the day's cumulative counts beside the clip's features.
-- Incremental by snapshot day: a run rebuilds the days of its partition window (vars min/max_snapshot_day) and
-- keeps every other day; the first build, or --full-refresh, takes all of history.
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='snapshot_day',
        on_schema_change='append_new_columns',
    )
}}

with

snapshots as (

    select * from {{ ref('stg_engagement__snapshots') }}
    {% if is_incremental() %}
    where snapshot_day >= cast('{{ var("min_snapshot_day") }}' as date)
      and snapshot_day < cast('{{ var("max_snapshot_day") }}' as date)
    {% endif %}

),

publications as (

    select * from {{ ref('int_publications_latest') }}

),

joined as (

    select
        -- keys
        snapshots.publication_id,
        snapshots.snapshot_day,
        snapshots.workspace_id,
        snapshots.account_id,
        snapshots.platform,
        snapshots.post_id,

        -- the post and its clip
        publications.post_url,
        publications.published_at,
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

        -- the day's cumulative counts
        snapshots.captured_at,
        snapshots.views,
        snapshots.likes,
        snapshots.comments,
        snapshots.shares,
        snapshots.saves,
        snapshots.avg_view_duration_s,
        snapshots.retention,

        -- derived
        {{ interactions('snapshots.likes', 'snapshots.comments', 'snapshots.shares', 'snapshots.saves') }}
            as interactions,
        date_diff('day', publications.published_day, snapshots.snapshot_day) as days_since_post

    from snapshots
    left join publications on snapshots.publication_id = publications.publication_id

),

final as (

    select
        *,
        {{ per_view('interactions', 'views') }} as engagement_rate

    from joined

)

select * from final
