-- One row per publication: its facts from the newest day file that lists it (a clip's features do not change once
-- it is posted; the newest file is the most complete view of the post).

with

publications as (

    select * from {{ ref('stg_publishing__publications') }}

),

latest as (

    select * from publications
    qualify row_number() over (partition by publication_id order by snapshot_day desc) = 1

),

final as (

    select
        * exclude (snapshot_day),
        snapshot_day as facts_day,
        {{ utc_day('published_at') }} as published_day

    from latest

)

select * from final
