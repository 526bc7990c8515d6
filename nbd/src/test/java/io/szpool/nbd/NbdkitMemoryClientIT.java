package io.szpool.nbd;

/** The client suite against nbdkit's memory plugin (the reference server). */
class NbdkitMemoryClientIT extends NbdClientContract {
    private Nbdkit nbdkit;

    @Override
    protected NbdClient connect() throws Exception {
        Tools.assumeOnPath("nbdkit");
        nbdkit = Nbdkit.start("memory", String.valueOf(EXPORT_SIZE));
        return NbdClient.connect("127.0.0.1", nbdkit.port(), "");
    }

    @Override
    protected void stopServer() throws Exception {
        if (nbdkit != null) {
            nbdkit.close();
        }
    }
}
