package io.szpool.sync.generation;

import io.szpool.sync.generation.ManifestCodec.ManifestException;
import io.szpool.sync.remote.Rsync;
import io.szpool.sync.remote.RsyncException;
import io.szpool.sync.remote.Target;
import io.szpool.sync.remote.TargetListing;
import io.szpool.sync.source.ChunkSource;
import io.szpool.sync.source.ChunkSource.SourceChunk;
import io.szpool.sync.source.ChunkSource.SourceSegment;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * One target's generations: writes a new generation from a chunk source, lists, verifies, restores
 * and prunes them. The protocol is in sync-service/DESIGN.md; in short: chunk images first
 * (unchanged ones hard-linked from the previous generation, changed ones sent by rsync's delta
 * transfer against it), stray files removed, the encrypted manifest last, through rsync's
 * write-to-temp-then-rename. Until the manifest is there the folder is no generation.
 */
public final class GenerationStore {

    private final Rsync rsync;
    private final Path workDir;

    /**
     * @param workDir a local folder for staging and fetched files; each call uses a fresh subfolder
     *     and removes it
     */
    public GenerationStore(Rsync rsync, Path workDir) {
        this.rsync = rsync;
        this.workDir = workDir;
    }

    public Target target() {
        return rsync.target();
    }

    /** A complete generation on the target: its folder and opened manifest. */
    public record Generation(long number, String folder, Manifest manifest, byte[] keySlot) {}

    /** Opens manifests: the keys for a key slot, or empty when this slot is not ours. */
    @FunctionalInterface
    public interface KeyFinder {
        Optional<TargetKeys> keysFor(byte[] keySlot);
    }

    /**
     * What the target holds for one pool.
     *
     * @param generations complete generations, oldest first
     * @param otherFolders folders that are no complete generation of this pool: other pools',
     *     interrupted runs'
     */
    public record Catalog(
            List<Generation> generations, List<String> otherFolders, TargetListing listing) {
        public Optional<Generation> latest() {
            return generations.isEmpty()
                    ? Optional.empty()
                    : Optional.of(generations.get(generations.size() - 1));
        }

        public Optional<Generation> generation(long number) {
            return generations.stream().filter(g -> g.number() == number).findFirst();
        }
    }

    /** Progress of a sync run, for events. */
    public interface Listener {
        default void started(long generation) {}

        default void chunkSent(
                SourceChunk chunk, long generation, long bytesSent, String sha256, long ms) {}
    }

    /**
     * What a sync run did.
     *
     * @param bytesSent everything rsync put on the wire for chunk images and manifest
     * @param literalBytes chunk bytes that travelled as is (changed regions)
     * @param bytesReferenced chunk bytes linked from the previous generation, not sent
     * @param barrierMillis how long the source held the pool's writes (null: it held none)
     */
    public record SyncResult(
            long generation,
            int chunks,
            int chunksSent,
            long bytesSent,
            long literalBytes,
            long bytesReferenced,
            long durationMs,
            List<Long> pruned,
            Long barrierMillis) {}

    /** Lists the target and opens every manifest it can with {@code keys}. */
    public Catalog catalog(KeyFinder keys, Optional<String> poolId)
            throws IOException, InterruptedException {
        TargetListing listing = TargetListing.of(rsync);
        List<TargetListing.Entry> candidates =
                listing.files().stream()
                        .filter(e -> !e.folder().isEmpty())
                        .filter(e -> !e.name().startsWith("."))
                        .filter(e -> ManifestCodec.couldBeManifest(e.size()))
                        .toList();
        Map<String, Generation> found = new LinkedHashMap<>();
        if (!candidates.isEmpty()) {
            Path scratch = scratch("manifests");
            try {
                fetch(candidates.stream().map(TargetListing.Entry::path).toList(), scratch);
                for (TargetListing.Entry e : candidates) {
                    Path local = scratch.resolve(e.path());
                    if (!Files.isRegularFile(local) || found.containsKey(e.folder())) {
                        continue;
                    }
                    byte[] bytes = Files.readAllBytes(local);
                    Optional<TargetKeys> k = keys.keysFor(ManifestCodec.keySlot(bytes));
                    if (k.isEmpty()) {
                        continue;
                    }
                    try {
                        Manifest m = ManifestCodec.open(bytes, k.get());
                        boolean named =
                                e.folder().equals(k.get().generationFolder(m.generation()))
                                        && e.name().equals(k.get().manifestFile(m.generation()));
                        if (named && poolId.map(m.poolId()::equals).orElse(true)) {
                            found.put(
                                    e.folder(),
                                    new Generation(
                                            m.generation(),
                                            e.folder(),
                                            m,
                                            ManifestCodec.keySlot(bytes)));
                        }
                    } catch (ManifestException notOurs) {
                        // Another pool's manifest, or damaged: this folder is no generation of
                        // ours.
                    }
                }
            } finally {
                deleteTree(scratch);
            }
        }
        List<Generation> generations =
                found.values().stream()
                        .sorted(Comparator.comparingLong(Generation::number))
                        .toList();
        List<String> others =
                listing.folders().stream().filter(f -> !found.containsKey(f)).toList();
        return new Catalog(generations, others, listing);
    }

    /**
     * Writes the next generation of {@code source}'s pool and prunes to {@code keep} plus {@code
     * pinned}. A run interrupted earlier left the same generation's folder behind; this run reuses
     * it, so what arrived then is not sent again.
     */
    public SyncResult sync(
            ChunkSource source,
            TargetKeys keys,
            String hostId,
            int keep,
            Set<Long> pinned,
            Listener listener)
            throws IOException, InterruptedException {
        return sync(source, keys, hostId, keep, pinned, Set.of(), listener);
    }

    /**
     * As above; {@code suspect} names chunks whose image on the target a verify found missing or
     * damaged: they are sent again rather than linked forward.
     */
    public SyncResult sync(
            ChunkSource source,
            TargetKeys keys,
            String hostId,
            int keep,
            Set<Long> pinned,
            Set<String> suspect,
            Listener listener)
            throws IOException, InterruptedException {
        long start = System.nanoTime();
        Catalog catalog = catalog(slot -> Optional.of(keys), Optional.of(source.poolId()));
        Optional<Generation> previous = catalog.latest();
        long number = previous.map(g -> g.number() + 1).orElse(1L);
        String folder = keys.generationFolder(number);
        listener.started(number);

        // What the previous generation holds whole on the target, segment by segment: only
        // those segments may be linked, and only those a source may leave unread. A file that is
        // gone or has the wrong size, and every segment of a chunk a verify found damaged, is
        // sent again. Format 1 images are no basis: their chunks go out as segments once.
        Map<String, ChunkSource.Previous> intact = new HashMap<>();
        Map<String, Manifest.Segment> previousSegments = new HashMap<>();
        if (previous.isPresent()) {
            Manifest before = previous.get().manifest();
            Map<String, Long> sizes = new HashMap<>();
            for (TargetListing.Entry e : catalog.listing().filesIn(previous.get().folder())) {
                sizes.put(e.name(), e.size());
            }
            for (Manifest.Chunk c : before.chunks()) {
                if (!c.segmented()
                        || before.segmentBytes() != Manifest.SEGMENT_BYTES
                        || suspect.contains(c.chunkId())) {
                    continue;
                }
                List<String> segments = new ArrayList<>();
                for (Manifest.Piece piece : before.pieces(c)) {
                    Long size = sizes.get(piece.file());
                    boolean whole =
                            size != null
                                    && size == piece.sizeBytes()
                                    && piece.file()
                                            .equals(keys.segmentFile(c.chunkId(), piece.index()));
                    segments.add(whole ? piece.sha256() : null);
                    if (whole) {
                        previousSegments.put(piece.file(), c.segments().get(piece.index()));
                    }
                }
                intact.put(
                        c.chunkId(),
                        new ChunkSource.Previous(
                                c.sha256(), c.sizeBytes(), c.version(), List.copyOf(segments)));
            }
        }
        source.capture(intact);

        // A segment is unchanged when the previous generation has its file whole with the same
        // digest: a hard link. Every other one travels by delta transfer against that file.
        List<StagedPiece> unchanged = new ArrayList<>();
        List<StagedPiece> changed = new ArrayList<>();
        for (SourceChunk c : source.chunks()) {
            for (SourceSegment s : c.segments()) {
                String name = keys.segmentFile(c.chunkId(), s.index());
                Manifest.Segment was = previousSegments.get(name);
                boolean same = was != null && was.sha256().equals(s.sha256());
                if (!same && !s.read()) {
                    throw new IllegalStateException(
                            "the source left segment "
                                    + s.index()
                                    + " of chunk "
                                    + c.chunkId()
                                    + " unread, but the previous generation lacks it");
                }
                (same ? unchanged : changed).add(new StagedPiece(c, s, name, was, same));
            }
        }

        Path staging = scratch("staging");
        try {
            String dest = rsync.target().resolve(folder) + "/";
            String linkDest = previous.map(g -> "--link-dest=../" + g.folder()).orElse(null);
            long sent = 0;
            long literal = 0;
            long referenced = 0;
            if (catalog.otherFolders().contains(folder) && !unchanged.isEmpty()) {
                // An interrupted run of this generation left files here. rsync compares an
                // existing file with it, not with the link-dest basis, so a segment that has
                // since changed back could pass --size-only: drop those names first.
                Path empty = Files.createDirectories(staging.resolve("empty"));
                List<String> args = new ArrayList<>(List.of("-r", "--delete"));
                for (StagedPiece piece : unchanged) {
                    args.add("--include=/" + piece.name());
                }
                args.add("--exclude=*");
                args.add(empty + "/");
                args.add(dest);
                rsync.run(args, false);
            }
            if (!unchanged.isEmpty()) {
                // Same digest as the previous generation: a hard link, no byte read or sent. No
                // -t: rsync links a --link-dest file only if its attributes match, mtime included
                // under -t, and a placeholder's mtime never does: with -t the receiver copied the
                // previous file instead (reading and writing it whole), which no byte count shows.
                Path linked = stage(staging.resolve("linked"), unchanged);
                List<String> args = new ArrayList<>(List.of("-rLS", "--size-only", "--mkpath"));
                args.add(linkDest);
                args.add(linked + "/");
                args.add(dest);
                Rsync.Result r = rsync.run(args);
                if (r.literalBytes() > 0) {
                    // A source stages an unchanged segment as an empty placeholder of the right
                    // size (it did not read it); if the previous file vanished since the listing,
                    // rsync sent the placeholder. No manifest for that.
                    throw new IOException(
                            "an unchanged segment's previous file left the target during the run;"
                                    + " the next run sends it");
                }
                sent += r.bytesSent();
                referenced += unchanged.stream().mapToLong(p -> p.segment().sizeBytes()).sum();
            }
            Set<String> chunksSent = new LinkedHashSet<>();
            if (!changed.isEmpty()) {
                // -I: never trust size and time for a segment whose digest changed; the previous
                // generation's file is still the basis of the delta transfer. Never --inplace:
                // that would write into a file older generations share.
                Path delta = stage(staging.resolve("changed"), changed);
                List<String> args =
                        new ArrayList<>(List.of("-rLtS", "-I", "--no-whole-file", "--mkpath"));
                if (linkDest != null) {
                    args.add(linkDest);
                }
                args.add(delta + "/");
                args.add(dest);
                long t0 = System.nanoTime();
                Rsync.Result r = rsync.run(args);
                long ms = Duration.ofNanos(System.nanoTime() - t0).toMillis();
                sent += r.bytesSent();
                literal += r.literalBytes();
                Map<String, Long> perChunk = new LinkedHashMap<>();
                Map<String, SourceChunk> byId = new HashMap<>();
                for (StagedPiece piece : changed) {
                    long bytes = r.fileBytes().getOrDefault(piece.name(), 0L);
                    perChunk.merge(piece.chunk().chunkId(), bytes, Long::sum);
                    byId.put(piece.chunk().chunkId(), piece.chunk());
                }
                for (Map.Entry<String, Long> e : perChunk.entrySet()) {
                    SourceChunk c = byId.get(e.getKey());
                    listener.chunkSent(c, number, e.getValue(), c.sha256(), ms);
                }
                chunksSent.addAll(perChunk.keySet());
            }
            source.checkUnchanged();

            // Whatever an interrupted run left in this folder (rsync temp files, segments of
            // chunks the pool no longer has) goes before the manifest makes the folder a
            // generation.
            List<StagedPiece> everything = new ArrayList<>(unchanged);
            everything.addAll(changed);
            Path all = stage(staging.resolve("all"), everything);
            rsync.run(
                    List.of("-r", "--delete", "--existing", "--ignore-existing", all + "/", dest),
                    false);

            Map<String, Manifest.Segment> written = new HashMap<>();
            for (StagedPiece piece : everything) {
                written.put(
                        piece.name(),
                        new Manifest.Segment(
                                piece.name(),
                                piece.segment().sha256(),
                                piece.linked() ? piece.previous().sentIn() : number));
            }
            List<Manifest.Chunk> entries = new ArrayList<>();
            for (SourceChunk c : source.chunks()) {
                List<Manifest.Segment> segments = new ArrayList<>();
                for (SourceSegment s : c.segments()) {
                    segments.add(written.get(keys.segmentFile(c.chunkId(), s.index())));
                }
                long sentIn =
                        segments.stream().mapToLong(Manifest.Segment::sentIn).max().orElse(number);
                entries.add(
                        new Manifest.Chunk(
                                c.chunkId(),
                                null,
                                c.sizeBytes(),
                                c.sha256(),
                                sentIn,
                                c.version(),
                                List.copyOf(segments)));
            }
            Manifest manifest =
                    new Manifest(
                            Manifest.FORMAT,
                            source.poolId(),
                            number,
                            Instant.now(),
                            hostId,
                            keys.keyId(),
                            source.description(),
                            source.layout(),
                            entries,
                            Manifest.SEGMENT_BYTES);
            Path manifestDir = Files.createDirectories(staging.resolve("manifest"));
            Path manifestFile = manifestDir.resolve(keys.manifestFile(number));
            Files.write(manifestFile, ManifestCodec.seal(manifest, source.keySlot(), keys));
            // rsync writes .<name>.XXXXXX and renames it when complete: the manifest appears whole.
            Rsync.Result r = rsync.run(List.of("-t", manifestFile.toString(), dest));
            sent += r.bytesSent();

            List<Generation> complete = new ArrayList<>(catalog.generations());
            complete.add(new Generation(number, folder, manifest, source.keySlot()));
            List<Long> pruned = prune(complete, keep, pinned);
            return new SyncResult(
                    number,
                    source.chunks().size(),
                    chunksSent.size(),
                    sent,
                    literal,
                    referenced,
                    Duration.ofNanos(System.nanoTime() - start).toMillis(),
                    pruned,
                    source.barrierMillis().isPresent() ? source.barrierMillis().getAsLong() : null);
        } finally {
            deleteTree(staging);
        }
    }

    /**
     * Removes every complete generation but the newest {@code keep} and the pinned ones. Chunk
     * images are hard links: removing a generation's folder removes its names only, and a file
     * stays while a kept generation still names it.
     *
     * @return the generations removed
     */
    public List<Long> prune(List<Generation> generations, int keep, Set<Long> pinned)
            throws RsyncException, InterruptedException, IOException {
        List<Generation> newestFirst =
                generations.stream()
                        .sorted(Comparator.comparingLong(Generation::number).reversed())
                        .toList();
        List<Generation> drop = new ArrayList<>();
        for (int i = 0; i < newestFirst.size(); i++) {
            Generation g = newestFirst.get(i);
            if (i >= Math.max(1, keep) && !pinned.contains(g.number())) {
                drop.add(g);
            }
        }
        if (drop.isEmpty()) {
            return List.of();
        }
        Path empty = scratch("empty");
        try {
            List<String> args = new ArrayList<>(List.of("-r", "--delete"));
            for (Generation g : drop) {
                args.add("--include=/" + g.folder() + "/***");
            }
            args.add("--exclude=*");
            args.add(empty + "/");
            args.add(rsync.target().resolve(""));
            rsync.run(args, false);
        } finally {
            deleteTree(empty);
        }
        return drop.stream().map(Generation::number).sorted().toList();
    }

    /** What verify or restore found for one chunk. */
    public record ChunkCheck(String chunkId, String state, String detail) {
        public static final String OK = "ok";
        public static final String MISSING = "missing";
        public static final String DAMAGED = "damaged";
    }

    /**
     * The outcome of checking a generation's chunk images against its manifest.
     *
     * @param badFiles by chunk id, its files on the target that are missing or damaged (a whole
     *     image in format 1, segments in format 2): an earlier generation that names one of them
     *     with the same {@code sentIn} holds the same damaged file
     */
    public record CheckReport(
            long generation,
            String poolId,
            List<ChunkCheck> chunks,
            @com.fasterxml.jackson.annotation.JsonIgnore Map<String, Set<String>> badFiles) {
        public CheckReport(long generation, String poolId, List<ChunkCheck> chunks) {
            this(generation, poolId, chunks, Map.of());
        }

        public List<ChunkCheck> with(String state) {
            return chunks.stream().filter(c -> c.state().equals(state)).toList();
        }

        public boolean intact() {
            return chunks.stream().allMatch(c -> c.state().equals(ChunkCheck.OK));
        }
    }

    /**
     * Checks every chunk image of {@code generation} against its manifest: present, right size,
     * right SHA-256. A local target is read in place; a remote one is fetched to a scratch folder.
     */
    public CheckReport verify(Generation generation, TargetListing listing)
            throws IOException, InterruptedException {
        if (rsync.target().kind() == Target.Kind.LOCAL) {
            return check(generation, rsync.target().localPath().resolve(generation.folder()));
        }
        Path scratch = scratch("verify");
        try {
            Path into = scratch.resolve("g");
            fetchFolder(generation.folder(), into);
            return check(generation, into);
        } finally {
            deleteTree(scratch);
        }
    }

    /**
     * Fetches {@code generation} into {@code into} (which must be new or empty) as a folder that
     * crypto-device-service adopts: {@code chunks/<chunkId>} for every intact chunk, {@code
     * damaged/<chunkId>} for every damaged one, the key slot in {@code keys/<pool>.slot}, a record
     * in {@code records/} for every chunk of the generation (a missing one has a record and no
     * image). Nothing is repaired here: rebuilding from parity is pool import's work.
     */
    public CheckReport restore(Generation generation, Path into, Listener restored)
            throws IOException, InterruptedException {
        Files.createDirectories(into);
        try (Stream<Path> s = Files.list(into)) {
            if (s.findAny().isPresent()) {
                throw new FileAlreadyExistsException(
                        into + " is not empty; restore into a fresh folder");
            }
        }
        Path fetched = into.resolve(".fetch");
        fetchFolder(generation.folder(), fetched);
        CheckReport report = check(generation, fetched);
        Manifest m = generation.manifest();
        Path chunks = Files.createDirectories(into.resolve("chunks"));
        Path records = Files.createDirectories(into.resolve("records"));
        for (ChunkCheck c : report.chunks()) {
            Manifest.Chunk entry = m.chunk(c.chunkId()).orElseThrow();
            // Every chunk gets its record, the lost ones too: crypto-device-service's adopt gives
            // a chunk with a record and no image a fresh sparse file for the pool's rebuild.
            Files.writeString(
                    records.resolve(c.chunkId() + ".json"),
                    record(m, entry),
                    StandardCharsets.UTF_8);
            Path to;
            if (c.state().equals(ChunkCheck.OK)) {
                to = chunks.resolve(c.chunkId());
            } else if (c.state().equals(ChunkCheck.DAMAGED)) {
                to = Files.createDirectories(into.resolve("damaged")).resolve(c.chunkId());
            } else {
                continue;
            }
            if (!entry.segmented()) {
                Files.move(fetched.resolve(entry.file()), to, StandardCopyOption.ATOMIC_MOVE);
            } else {
                assemble(m, entry, fetched, to);
            }
        }
        Path keysDir = Files.createDirectories(into.resolve("keys"));
        Path slot = keysDir.resolve(m.poolId() + ".slot");
        Files.createFile(
                slot,
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(slot, generation.keySlot());
        deleteTree(fetched);
        return report;
    }

    /**
     * An earlier generation that still holds a chunk.
     *
     * @param verified its image's SHA-256 was checked (a local target, read in place); otherwise
     *     only its size on the target's listing matches, so it only might be intact
     */
    public record IntactCopy(long generation, boolean verified) {}

    /**
     * For each of {@code chunkIds} (bad in {@code current}), the newest earlier generation whose
     * image of it is still whole. An earlier generation that names the very image the current one
     * found damaged (the same {@code sentIn}: a hard link) shares that damage and is passed over.
     */
    public Map<String, IntactCopy> intactEarlier(
            Catalog catalog, Generation current, CheckReport report, Set<String> chunkIds)
            throws IOException {
        Map<String, IntactCopy> out = new LinkedHashMap<>();
        boolean local = rsync.target().kind() == Target.Kind.LOCAL;
        List<Generation> earlier =
                catalog.generations().stream()
                        .filter(g -> g.number() < current.number())
                        .sorted(Comparator.comparingLong(Generation::number).reversed())
                        .toList();
        for (String id : chunkIds) {
            Optional<Manifest.Chunk> bad = current.manifest().chunk(id);
            boolean damaged =
                    report.with(ChunkCheck.DAMAGED).stream().anyMatch(c -> c.chunkId().equals(id));
            // The current generation's damaged files, each with the run that sent it: an earlier
            // generation naming the same file from the same run holds a hard link to it.
            Set<String> sharedDamage = new HashSet<>();
            if (damaged && bad.isPresent()) {
                Set<String> badHere = report.badFiles().getOrDefault(id, Set.of());
                for (Manifest.Piece p : current.manifest().pieces(bad.get())) {
                    if (badHere.isEmpty() || badHere.contains(p.file())) {
                        sharedDamage.add(p.file() + "@" + p.sentIn());
                    }
                }
            }
            for (Generation g : earlier) {
                Optional<Manifest.Chunk> entry = g.manifest().chunk(id);
                if (entry.isEmpty()) {
                    continue;
                }
                List<Manifest.Piece> pieces = g.manifest().pieces(entry.get());
                if (pieces.stream()
                        .anyMatch(p -> sharedDamage.contains(p.file() + "@" + p.sentIn()))) {
                    continue;
                }
                Map<String, Long> sizes = new HashMap<>();
                catalog.listing().filesIn(g.folder()).forEach(e -> sizes.put(e.name(), e.size()));
                boolean sized =
                        pieces.stream()
                                .allMatch(
                                        p ->
                                                Long.valueOf(p.sizeBytes())
                                                        .equals(sizes.get(p.file())));
                if (!sized) {
                    continue;
                }
                if (!local) {
                    out.put(id, new IntactCopy(g.number(), false));
                    break;
                }
                Path dir = rsync.target().localPath().resolve(g.folder());
                boolean whole = true;
                for (Manifest.Piece p : pieces) {
                    if (!Digests.sha256(dir.resolve(p.file())).equals(p.sha256())) {
                        whole = false;
                        break;
                    }
                }
                if (whole) {
                    out.put(id, new IntactCopy(g.number(), true));
                    break;
                }
            }
        }
        return out;
    }

    private static String record(Manifest m, Manifest.Chunk c) {
        // crypto-device-service's ChunkRecord, so that service can adopt the restored folder.
        return "{\"chunkId\":\""
                + c.chunkId()
                + "\",\"poolId\":\""
                + m.poolId().replace("\"", "")
                + "\",\"sizeBytes\":"
                + c.sizeBytes()
                + ",\"sparse\":true,\"keyId\":\""
                + m.keyId()
                + "\",\"requestId\":\"restore-generation-"
                + m.generation()
                + "\",\"attached\":false,\"createdAt\":\""
                + m.createdAt()
                + "\"}";
    }

    private CheckReport check(Generation generation, Path folder) throws IOException {
        List<ChunkCheck> checks = new ArrayList<>();
        Map<String, Set<String>> badFiles = new LinkedHashMap<>();
        Manifest m = generation.manifest();
        for (Manifest.Chunk c : m.chunks()) {
            List<Manifest.Piece> pieces = m.pieces(c);
            List<String> problems = new ArrayList<>();
            Set<String> bad = new LinkedHashSet<>();
            int missing = 0;
            for (Manifest.Piece p : pieces) {
                String what = c.segmented() ? "segment " + p.index() + ": " : "";
                Path file = folder.resolve(p.file());
                if (!Files.isRegularFile(file)) {
                    missing++;
                    bad.add(p.file());
                    problems.add(what + "not on the target");
                    continue;
                }
                long size = Files.size(file);
                if (size != p.sizeBytes()) {
                    bad.add(p.file());
                    problems.add(
                            what + "size " + size + " bytes, the manifest says " + p.sizeBytes());
                } else if (!Digests.sha256(file).equals(p.sha256())) {
                    bad.add(p.file());
                    problems.add(what + "sha256 differs from the manifest");
                }
            }
            if (!bad.isEmpty()) {
                badFiles.put(c.chunkId(), Set.copyOf(bad));
            }
            if (missing == pieces.size()) {
                checks.add(
                        new ChunkCheck(
                                c.chunkId(),
                                ChunkCheck.MISSING,
                                c.segmented()
                                        ? "none of its " + pieces.size() + " segments on the target"
                                        : "no image on the target"));
            } else if (!problems.isEmpty()) {
                String detail =
                        problems.size() > 3
                                ? String.join("; ", problems.subList(0, 3))
                                        + "; and "
                                        + (problems.size() - 3)
                                        + " more segments"
                                : String.join("; ", problems);
                checks.add(new ChunkCheck(c.chunkId(), ChunkCheck.DAMAGED, detail));
            } else {
                checks.add(new ChunkCheck(c.chunkId(), ChunkCheck.OK, "sha256 matches"));
            }
        }
        return new CheckReport(generation.number(), m.poolId(), checks, badFiles);
    }

    /**
     * Writes a segmented chunk's image from its segment files in {@code fetched} (each removed once
     * copied, so a restore needs little more room than the images), sparse: units of zeros stay
     * holes, as rsync -S leaves them for a format 1 image. A missing segment stays a hole.
     */
    private static void assemble(Manifest m, Manifest.Chunk chunk, Path fetched, Path to)
            throws IOException {
        byte[] buffer = new byte[1 << 20];
        try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(to.toFile(), "rw");
                java.nio.channels.FileChannel out = raf.getChannel()) {
            for (Manifest.Piece p : m.pieces(chunk)) {
                Path file = fetched.resolve(p.file());
                if (!Files.isRegularFile(file)) {
                    continue;
                }
                try (java.io.InputStream in = Files.newInputStream(file)) {
                    long at = p.offset();
                    long end = p.offset() + p.sizeBytes();
                    int n;
                    while (at < end
                            && (n =
                                            in.readNBytes(
                                                    buffer,
                                                    0,
                                                    (int) Math.min(buffer.length, end - at)))
                                    > 0) {
                        writeNonZero(out, buffer, n, at);
                        at += n;
                    }
                }
                Files.delete(file);
            }
            raf.setLength(chunk.sizeBytes());
        }
    }

    private static final byte[] ZERO_UNIT = new byte[4096];

    private static void writeNonZero(
            java.nio.channels.FileChannel out, byte[] buffer, int length, long position)
            throws IOException {
        int unit = ZERO_UNIT.length;
        int at = 0;
        while (at < length) {
            int end = at;
            while (end < length
                    && java.util.Arrays.mismatch(
                                    buffer,
                                    end,
                                    Math.min(end + unit, length),
                                    ZERO_UNIT,
                                    0,
                                    Math.min(unit, length - end))
                            != -1) {
                end += unit;
            }
            end = Math.min(end, length);
            if (end > at) {
                java.nio.ByteBuffer run = java.nio.ByteBuffer.wrap(buffer, at, end - at);
                long to = position + at;
                while (run.hasRemaining()) {
                    to += out.write(run, to);
                }
                at = end;
            } else {
                at += unit;
            }
        }
    }

    private void fetch(List<String> paths, Path into) throws IOException, InterruptedException {
        // Filters rather than --files-from: an rsync daemon answered --files-from with "file has
        // vanished" for files that were there.
        Files.createDirectories(into);
        List<String> args = new ArrayList<>(List.of("-rt"));
        Set<String> folders = new java.util.TreeSet<>();
        for (String p : paths) {
            folders.add(p.substring(0, p.indexOf('/')));
        }
        folders.forEach(f -> args.add("--include=/" + f + "/"));
        paths.forEach(p -> args.add("--include=/" + p));
        args.add("--exclude=*");
        args.add(rsync.target().resolve(""));
        args.add(into + "/");
        rsync.run(args, false);
    }

    private void fetchFolder(String folder, Path into) throws IOException, InterruptedException {
        Files.createDirectories(into);
        try {
            rsync.run(List.of("-rtS", rsync.target().resolve(folder) + "/", into + "/"), false);
        } catch (RsyncException e) {
            // 23/24: some files could not be read; what arrived is checked file by file.
            if (e.exitCode() != 23 && e.exitCode() != 24) {
                throw e;
            }
        }
    }

    /** One segment of a run, under its name on the target, with the previous generation's. */
    private record StagedPiece(
            SourceChunk chunk,
            SourceSegment segment,
            String name,
            Manifest.Segment previous,
            boolean linked) {}

    private static Path stage(Path dir, List<StagedPiece> pieces) throws IOException {
        Files.createDirectories(dir);
        Set<String> names = new HashSet<>();
        for (StagedPiece p : pieces) {
            if (names.add(p.name())) {
                Files.createSymbolicLink(
                        dir.resolve(p.name()), p.segment().file().toAbsolutePath());
            }
        }
        return dir;
    }

    private Path scratch(String what) throws IOException {
        Files.createDirectories(workDir);
        return Files.createDirectories(workDir.resolve(what + "-" + UUID.randomUUID()));
    }

    /** Removes a folder and everything under it; a missing folder is fine. */
    public static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clean up " + root, e);
        }
    }
}
