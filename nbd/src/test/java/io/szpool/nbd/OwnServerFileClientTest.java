package io.szpool.nbd;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The client suite against our own server, backed by a sparse file. */
class OwnServerFileClientTest extends NbdClientContract {
    @TempDir Path dir;
    private NbdServer server;
    private FileBlockDevice device;

    @Override
    protected NbdClient connect() throws Exception {
        device = FileBlockDevice.create(dir.resolve("export.img"), EXPORT_SIZE);
        server = new NbdServer();
        server.addExport("file", device);
        int port = server.listen(ListenerConfig.loopback(0)).port();
        return NbdClient.connect("127.0.0.1", port, "file");
    }

    @Override
    protected void stopServer() throws Exception {
        server.close();
        device.close();
    }
}
