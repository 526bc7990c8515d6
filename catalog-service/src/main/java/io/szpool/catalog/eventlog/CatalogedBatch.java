package io.szpool.catalog.eventlog;

import java.util.List;

/** The events one transaction cataloged, in order; observed once it has committed. */
public record CatalogedBatch(List<CatalogedEvent> events) {}
