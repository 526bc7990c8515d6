package io.szpool.pool.driver;

import io.szpool.nbd.BlockDevice;
import io.szpool.nbd.FileBlockDevice;
import io.szpool.nbd.NbdClient;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;

/**
 * Opens a chunk's device by the address crypto-device-service announced: {@code
 * nbd://HOST:PORT/EXPORT} through the NBD client, anything else as a local device or file path
 * ({@code /dev/mapper/...}, {@code /dev/lofi/N}).
 */
public final class DeviceOpener {
    private DeviceOpener() {}

    public static BlockDevice open(String address) throws IOException {
        if (address.startsWith("nbd://")) {
            URI uri = URI.create(address);
            String export = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
            int port = uri.getPort() < 0 ? 10809 : uri.getPort();
            return NbdClient.connect(uri.getHost(), port, export);
        }
        return FileBlockDevice.open(Path.of(address), false);
    }
}
