package io.szpool.sync.generation;

import io.szpool.sync.generation.ManifestCodec.ManifestException;
import io.szpool.sync.source.ChunkSource;
import io.szpool.sync.source.ChunkSource.SourceChunk;
import io.szpool.sync.target.Rsync;
import io.szpool.sync.target.RsyncException;
import io.szpool.sync.target.Target;
import io.szpool.sync.target.TargetListing;
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

        // What the previous generation holds whole on the target: only those chunks may be
        // linked, and only those a source may skip copying. An image that is gone, has the wrong
        // size, or that a verify found damaged is sent again.
        Map<String, ChunkSource.Previous> intact = new HashMap<>();
        if (previous.isPresent()) {
            Map<String, Long> sizes = new HashMap<>();
            for (TargetListing.Entry e : catalog.listing().filesIn(previous.get().folder())) {
                sizes.put(e.name(), e.size());
            }
            for (Manifest.Chunk c : previous.get().manifest().chunks()) {
                Long size = sizes.get(c.file());
                if (size != null && size == c.sizeBytes() && !suspect.contains(c.chunkId())) {
                    intact.put(
                            c.chunkId(),
                            new ChunkSource.Previous(c.sha256(), c.sizeBytes(), c.version()));
                }
            }
        }
        source.capture(intact);

        Map<String, String> digests = new HashMap<>();
        for (SourceChunk c : source.chunks()) {
            digests.put(c.chunkId(), c.sha256() != null ? c.sha256() : Digests.sha256(c.file()));
        }
        List<SourceChunk> unchanged = new ArrayList<>();
        List<SourceChunk> changed = new ArrayList<>();
        for (SourceChunk c : source.chunks()) {
            ChunkSource.Previous before = intact.get(c.chunkId());
            boolean same =
                    before != null
                            && before.sha256().equals(digests.get(c.chunkId()))
                            && before.sizeBytes() == c.sizeBytes()
                            && previous.get()
                                    .manifest()
                                    .chunk(c.chunkId())
                                    .map(m -> m.file().equals(keys.chunkFile(c.chunkId())))
                                    .orElse(false);
            (same ? unchanged : changed).add(c);
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
                // existing file with it, not with the link-dest basis, so an image of a chunk that
                // has since changed back could pass --size-only: drop those names first.
                Path empty = Files.createDirectories(staging.resolve("empty"));
                List<String> args = new ArrayList<>(List.of("-r", "--delete"));
                for (SourceChunk c : unchanged) {
                    args.add("--include=/" + keys.chunkFile(c.chunkId()));
                }
                args.add("--exclude=*");
                args.add(empty + "/");
                args.add(dest);
                rsync.run(args, false);
            }
            if (!unchanged.isEmpty()) {
                // Same digest as the previous generation: a hard link, no byte read or sent.
                Path linked = stage(staging.resolve("linked"), unchanged, keys);
                List<String> args = new ArrayList<>(List.of("-rLtS", "--size-only", "--mkpath"));
                args.add(linkDest);
                args.add(linked + "/");
                args.add(dest);
                Rsync.Result r = rsync.run(args);
                if (r.literalBytes() > 0) {
                    // A source may stage an unchanged chunk as an empty placeholder of the right
                    // size (it did not read it); if the previous image vanished since the
                    // listing, rsync sent the placeholder. No manifest for that.
                    throw new IOException(
                            "an unchanged chunk's previous image left the target during the run;"
                                    + " the next run sends it");
                }
                sent += r.bytesSent();
                referenced += unchanged.stream().mapToLong(SourceChunk::sizeBytes).sum();
            }
            if (!changed.isEmpty()) {
                // -I: never trust size and time for a chunk whose digest changed; the previous
                // generation's image is still the basis of the delta transfer. Never --inplace:
                // that would write into a file older generations share.
                Path delta = stage(staging.resolve("changed"), changed, keys);
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
                for (SourceChunk c : changed) {
                    long bytes = r.fileBytes().getOrDefault(keys.chunkFile(c.chunkId()), 0L);
                    listener.chunkSent(c, number, bytes, digests.get(c.chunkId()), ms);
                }
            }
            source.checkUnchanged();

            // Whatever an interrupted run left in this folder (rsync temp files, chunks of a pool
            // that has since shrunk) goes before the manifest makes the folder a generation.
            Path all = stage(staging.resolve("all"), source.chunks(), keys);
            rsync.run(
                    List.of("-r", "--delete", "--existing", "--ignore-existing", all + "/", dest),
                    false);

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
                            source.chunks().stream()
                                    .map(
                                            c ->
                                                    new Manifest.Chunk(
                                                            c.chunkId(),
                                                            keys.chunkFile(c.chunkId()),
                                                            c.sizeBytes(),
                                                            digests.get(c.chunkId()),
                                                            unchanged.contains(c)
                                                                    ? previous.get()
                                                                            .manifest()
                                                                            .chunk(c.chunkId())
                                                                            .get()
                                                                            .sentIn()
                                                                    : number,
                                                            c.version()))
                                    .toList());
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
                    changed.size(),
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

    /** The outcome of checking a generation's chunk images against its manifest. */
    public record CheckReport(long generation, String poolId, List<ChunkCheck> chunks) {
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
            Path file = fetched.resolve(entry.file());
            // Every chunk gets its record, the lost ones too: crypto-device-service's adopt gives
            // a chunk with a record and no image a fresh sparse file for the pool's rebuild.
            Files.writeString(
                    records.resolve(c.chunkId() + ".json"),
                    record(m, entry),
                    StandardCharsets.UTF_8);
            if (c.state().equals(ChunkCheck.OK)) {
                Files.move(file, chunks.resolve(c.chunkId()), StandardCopyOption.ATOMIC_MOVE);
            } else if (Files.exists(file)) {
                Path damaged = Files.createDirectories(into.resolve("damaged"));
                Files.move(file, damaged.resolve(c.chunkId()), StandardCopyOption.ATOMIC_MOVE);
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
            for (Generation g : earlier) {
                Optional<Manifest.Chunk> entry = g.manifest().chunk(id);
                if (entry.isEmpty()) {
                    continue;
                }
                Manifest.Chunk c = entry.get();
                if (damaged && bad.isPresent() && bad.get().sentIn() == c.sentIn()) {
                    continue;
                }
                boolean sized =
                        catalog.listing().filesIn(g.folder()).stream()
                                .anyMatch(
                                        e ->
                                                e.name().equals(c.file())
                                                        && e.size() == c.sizeBytes());
                if (!sized) {
                    continue;
                }
                if (!local) {
                    out.put(id, new IntactCopy(g.number(), false));
                    break;
                }
                Path image = rsync.target().localPath().resolve(g.folder()).resolve(c.file());
                if (Digests.sha256(image).equals(c.sha256())) {
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
        for (Manifest.Chunk c : generation.manifest().chunks()) {
            Path file = folder.resolve(c.file());
            if (!Files.isRegularFile(file)) {
                checks.add(
                        new ChunkCheck(c.chunkId(), ChunkCheck.MISSING, "no image on the target"));
                continue;
            }
            long size = Files.size(file);
            if (size != c.sizeBytes()) {
                checks.add(
                        new ChunkCheck(
                                c.chunkId(),
                                ChunkCheck.DAMAGED,
                                "size " + size + " bytes, the manifest says " + c.sizeBytes()));
                continue;
            }
            String digest = Digests.sha256(file);
            checks.add(
                    digest.equals(c.sha256())
                            ? new ChunkCheck(c.chunkId(), ChunkCheck.OK, "sha256 matches")
                            : new ChunkCheck(
                                    c.chunkId(),
                                    ChunkCheck.DAMAGED,
                                    "sha256 differs from the manifest"));
        }
        return new CheckReport(generation.number(), generation.manifest().poolId(), checks);
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

    private static Path stage(Path dir, List<SourceChunk> chunks, TargetKeys keys)
            throws IOException {
        Files.createDirectories(dir);
        Set<String> names = new HashSet<>();
        for (SourceChunk c : chunks) {
            String name = keys.chunkFile(c.chunkId());
            if (names.add(name)) {
                Files.createSymbolicLink(dir.resolve(name), c.file().toAbsolutePath());
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
