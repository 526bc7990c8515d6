package io.szpool.device.driver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.szpool.crypto.EncryptedChunkFile;
import io.szpool.crypto.XtsKey;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The linux driver for real: kernel loop device and dm-crypt, and the embedded driver's format on
 * the same file in both directions. Runs only as root where the kernel has device-mapper with the
 * crypt target and loop devices, and cryptsetup is installed; skipped with the reason otherwise.
 */
class LinuxDriverDeviceMapperTest {
    @TempDir Path folder;

    @Test
    void dmCryptAndTheEmbeddedDriverReadEachOthersChunks() throws Exception {
        Optional<String> why = KernelDmCrypt.whyNot();
        assumeTrue(why.isEmpty(), () -> why.orElse(""));

        LinuxDriver driver = new LinuxDriver(new CommandRunner(Duration.ofSeconds(60)));
        Path file = folder.resolve("chunk");
        String chunkId = "test" + System.nanoTime();
        driver.createFile(file, 64L << 20, true);
        byte[] raw = LinuxDriverTest.key();
        byte[] viaKernel = new byte[1 << 20];
        byte[] viaJava = new byte[1 << 20];
        new Random(2).nextBytes(viaKernel);
        new Random(3).nextBytes(viaJava);
        try (XtsKey key = XtsKey.of(raw)) {
            String device = driver.attach(chunkId, file, key);
            try {
                assertEquals("/dev/mapper/szpool-" + chunkId, device);
                assertEquals(device, driver.attach(chunkId, file, key), "attach is idempotent");
                try (FileChannel dev =
                        FileChannel.open(Path.of(device), StandardOpenOption.WRITE)) {
                    dev.write(ByteBuffer.wrap(viaKernel), 8L << 20);
                    dev.force(true);
                }
            } finally {
                assertTrue(driver.detach(chunkId, file));
            }
            try (EncryptedChunkFile chunk = EncryptedChunkFile.open(file, key)) {
                ByteBuffer back = ByteBuffer.allocate(viaKernel.length);
                chunk.read(8L << 20, back);
                assertArrayEquals(viaKernel, back.array(), "dm-crypt wrote what Java reads");
                chunk.write(16L << 20, ByteBuffer.wrap(viaJava));
                chunk.flush();
            }
            String device2 = driver.attach(chunkId, file, key);
            try (FileChannel dev = FileChannel.open(Path.of(device2), StandardOpenOption.READ)) {
                ByteBuffer back = ByteBuffer.allocate(viaJava.length);
                dev.read(back, 16L << 20);
                assertArrayEquals(viaJava, back.array(), "Java wrote what dm-crypt reads");
            } finally {
                driver.detach(chunkId, file);
            }
        }
    }
}
