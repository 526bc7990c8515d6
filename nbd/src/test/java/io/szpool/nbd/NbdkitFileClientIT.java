package io.szpool.nbd;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The client suite against nbdkit's file plugin (the reference server) on a sparse file. */
class NbdkitFileClientIT extends NbdClientContract {
    @TempDir Path dir;
    private Nbdkit nbdkit;

    @Override
    protected NbdClient connect() throws Exception {
        Tools.assumeOnPath("nbdkit");
        Path image = dir.resolve("nbdkit.img");
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(EXPORT_SIZE);
        }
        nbdkit = Nbdkit.start("file", image.toString());
        return NbdClient.connect("127.0.0.1", nbdkit.port(), "");
    }

    @Override
    protected void stopServer() throws Exception {
        if (nbdkit != null) {
            nbdkit.close();
        }
    }
}
