-- The whole fleet: hosts, pools, vdevs, growth, sync generations, restores and the event log.
-- Rows may be created as placeholders by whichever topic names them first, so the columns that
-- only one topic knows are nullable until that topic's event arrives.

-- Chunks: device facts, pool facts and sync facts are kept apart; state is derived from them.
alter table chunk alter column path drop not null;
alter table chunk alter column size_bytes drop not null;
alter table chunk alter column sparse drop not null;
alter table chunk alter column cipher drop not null;
alter table chunk alter column key_id drop not null;
alter table chunk alter column driver drop not null;
-- Last state reported on szpool.device-events (null while only other topics named the chunk).
alter table chunk add column device_state varchar(16);
-- Named by a vdev of its pool on szpool.pool-events (and not released by PoolDestroyed).
-- Rows written before V2 came from device events only.
update chunk set device_state = state;
alter table chunk add column in_pool boolean not null default false;
-- Which topic set pool_id/host_id: 3 device, 2 pool, 1 sync; a lower rank never overwrites.
alter table chunk add column owner_rank smallint not null default 3;
alter table chunk add column last_synced_generation bigint;
alter table chunk add column last_synced_at timestamptz;
create index chunk_unsynced_idx on chunk (last_synced_at nulls first) where state <> 'DESTROYED';

create table host (
    host_id    varchar(128) primary key,
    first_seen timestamptz  not null,
    last_seen  timestamptz  not null
);
create index host_last_seen_idx on host (last_seen);

create table host_service (
    host_id    varchar(128) not null references host (host_id),
    service    varchar(128) not null,
    first_seen timestamptz  not null,
    last_seen  timestamptz  not null,
    primary key (host_id, service)
);

create table pool (
    pool_id          varchar(128) primary key,
    name             varchar(256),
    host_id          varchar(128),
    owner_rank       smallint     not null,
    layout           varchar(16),
    width            integer,
    chunk_size_bytes bigint,
    size_bytes       bigint,
    allocated_bytes  bigint,
    health           varchar(16),
    state            varchar(16),
    last_scrubbed_at timestamptz,
    created_at       timestamptz,
    first_seen       timestamptz  not null,
    updated_at       timestamptz  not null
);
create index pool_host_idx on pool (host_id);

create table vdev (
    pool_id    varchar(128) not null,
    vdev_index integer      not null,
    layout     varchar(16)  not null,
    added_at   timestamptz  not null,
    primary key (pool_id, vdev_index)
);

-- The chunks of a vdev in column order.
create table vdev_chunk (
    pool_id    varchar(128) not null,
    vdev_index integer      not null,
    position   integer      not null,
    chunk_id   varchar(64)  not null,
    primary key (pool_id, vdev_index, position)
);
create index vdev_chunk_chunk_idx on vdev_chunk (chunk_id);

create table pool_growth (
    pool_id           varchar(128) not null,
    vdev_index        integer      not null,
    size_bytes_before bigint       not null,
    size_bytes_after  bigint       not null,
    trigger           varchar(32)  not null,
    grown_at          timestamptz  not null,
    primary key (pool_id, vdev_index)
);

create table sync_generation (
    pool_id           varchar(128) not null,
    target            text         not null,
    generation        bigint       not null,
    host_id           varchar(128) not null,
    state             varchar(16)  not null,
    started_at        timestamptz,
    finished_at       timestamptz,
    chunks_synced     integer      not null default 0,
    bytes_synced      bigint       not null default 0,
    chunks            integer,
    bytes_transferred bigint,
    duration_ms       bigint,
    reason            text,
    primary key (pool_id, target, generation)
);
create index sync_generation_completed_idx on sync_generation (pool_id, finished_at)
    where state = 'completed';

create table restore (
    pool_id         varchar(128) not null,
    host_id         varchar(128) not null,
    generation      bigint       not null,
    target          text,
    state           varchar(16)  not null,
    started_at      timestamptz,
    finished_at     timestamptz,
    chunks_restored integer      not null default 0,
    chunks_repaired integer      not null default 0,
    duration_ms     bigint,
    primary key (pool_id, host_id, generation)
);

-- The audit trail: every event the catalog applied, in the order it applied them (seq = cursor).
create table event_log (
    seq         bigserial    primary key,
    event_id    varchar(128) not null unique,
    type        varchar(128) not null,
    topic       varchar(64)  not null,
    pool_id     varchar(128),
    host_id     varchar(128),
    source      text         not null,
    event_time  timestamptz,
    payload     jsonb        not null,
    cataloged_at timestamptz not null
);
create index event_log_pool_idx on event_log (pool_id, seq);
create index event_log_type_idx on event_log (type, seq);
