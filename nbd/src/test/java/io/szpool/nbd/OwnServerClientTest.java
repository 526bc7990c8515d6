package io.szpool.nbd;

/** The client suite against our own server, backed by a sparse in-memory device. */
class OwnServerClientTest extends NbdClientContract {
    private NbdServer server;

    @Override
    protected NbdClient connect() throws Exception {
        server = new NbdServer();
        server.addExport("scratch", new MemoryBlockDevice(EXPORT_SIZE));
        int port = server.listen(ListenerConfig.loopback(0)).port();
        return NbdClient.connect("127.0.0.1", port, "scratch");
    }

    @Override
    protected void stopServer() {
        server.close();
    }
}
