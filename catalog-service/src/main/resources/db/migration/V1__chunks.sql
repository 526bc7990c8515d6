-- Chunks as the fleet knows them, and the ids of the events already applied (idempotency).
create table chunk (
    chunk_id       varchar(64)  primary key,
    pool_id        varchar(128) not null,
    host_id        varchar(128) not null,
    path           text         not null,
    size_bytes     bigint       not null,
    sparse         boolean      not null,
    cipher         varchar(32)  not null,
    key_id         varchar(256) not null,
    driver         varchar(16)  not null,
    state          varchar(16)  not null,
    device_address text,
    created_at     timestamptz  not null,
    updated_at     timestamptz  not null
);
create index chunk_pool_idx on chunk (pool_id);
create index chunk_host_idx on chunk (host_id);
create index chunk_state_idx on chunk (state);

create table processed_event (
    event_id     varchar(128) primary key,
    type         varchar(128) not null,
    source       text         not null,
    pool_id      varchar(128),
    processed_at timestamptz  not null
);
