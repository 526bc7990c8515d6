package io.szpool.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * A real headless Chromium driven over the Chrome DevTools protocol (a WebSocket, JSON commands),
 * the protocol chromedriver itself speaks to the browser. It records the URL of every request the
 * page makes, so a test can check that none left the machine.
 */
final class Chromium implements AutoCloseable {
    static final Path BINARY = Path.of("/usr/bin/chromium");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final Path profile;
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> replies = new ConcurrentHashMap<>();
    private final List<String> requests = new CopyOnWriteArrayList<>();

    private Chromium(Process process, Path profile, WebSocket socket) {
        this.process = process;
        this.profile = profile;
        this.socket = socket;
    }

    static boolean available() {
        return Files.isExecutable(BINARY);
    }

    /** Starts the browser on a blank page of the given size, with network requests recorded. */
    static Chromium start(int width, int height) throws Exception {
        Path profile = Files.createTempDirectory("szpool-chromium-");
        ProcessBuilder browser =
                new ProcessBuilder(
                                BINARY.toString(),
                                "--headless",
                                "--no-sandbox",
                                "--disable-gpu",
                                "--disable-quic",
                                "--no-first-run",
                                "--disable-background-networking",
                                "--disable-component-update",
                                "--disable-sync",
                                "--disable-extensions",
                                "--user-data-dir=" + profile,
                                "--remote-debugging-address=127.0.0.1",
                                "--remote-debugging-port=0",
                                "--window-size=" + width + "," + height,
                                "about:blank")
                        .redirectErrorStream(true)
                        .redirectOutput(profile.resolve("chromium.log").toFile());
        // Chromium puts its singleton socket folders in TMPDIR; inside the profile, close() takes
        // them away with it instead of leaving one in /tmp per browser started.
        Path tmp = Files.createDirectory(profile.resolve("tmp"));
        browser.environment().put("TMPDIR", tmp.toString());
        Process process = browser.start();
        try {
            // The browser writes its debugging port here once it listens.
            Path portFile = profile.resolve("DevToolsActivePort");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.exists(portFile) || Files.readAllLines(portFile).isEmpty()) {
                if (!process.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            "chromium did not start: "
                                    + Files.readString(profile.resolve("chromium.log")));
                }
                Thread.sleep(100);
            }
            int port = Integer.parseInt(Files.readAllLines(portFile).get(0).trim());
            HttpClient http = HttpClient.newHttpClient();
            String pageSocket = null;
            while (pageSocket == null) {
                JsonNode targets =
                        JSON.readTree(
                                http.send(
                                                HttpRequest.newBuilder(
                                                                URI.create(
                                                                        "http://127.0.0.1:"
                                                                                + port
                                                                                + "/json/list"))
                                                        .build(),
                                                HttpResponse.BodyHandlers.ofString())
                                        .body());
                for (JsonNode target : targets) {
                    if ("page".equals(target.path("type").asText())) {
                        pageSocket = target.path("webSocketDebuggerUrl").asText();
                    }
                }
                if (pageSocket == null) {
                    Thread.sleep(100);
                }
            }
            Listener listener = new Listener();
            WebSocket socket =
                    http.newWebSocketBuilder()
                            .buildAsync(URI.create(pageSocket), listener)
                            .get(30, TimeUnit.SECONDS);
            Chromium chromium = new Chromium(process, profile, socket);
            listener.chromium = chromium;
            chromium.send("Network.enable", Map.of());
            chromium.send("Page.enable", Map.of());
            chromium.send(
                    "Emulation.setDeviceMetricsOverride",
                    Map.of(
                            "width",
                            width,
                            "height",
                            height,
                            "deviceScaleFactor",
                            1,
                            "mobile",
                            false));
            return chromium;
        } catch (Exception e) {
            process.destroyForcibly();
            throw e;
        }
    }

    JsonNode send(String method, Map<String, ?> params) throws Exception {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        replies.put(id, reply);
        ObjectNode message = JSON.createObjectNode();
        message.put("id", id);
        message.put("method", method);
        message.set("params", JSON.valueToTree(params));
        socket.sendText(JSON.writeValueAsString(message), true).get(30, TimeUnit.SECONDS);
        JsonNode answer = reply.get(60, TimeUnit.SECONDS);
        if (answer.has("error")) {
            throw new IllegalStateException(method + ": " + answer.get("error"));
        }
        return answer.path("result");
    }

    void navigate(String url) throws Exception {
        send("Page.navigate", Map.of("url", url));
    }

    /** The value of a JavaScript expression in the page (awaited if it is a promise). */
    JsonNode eval(String expression) throws Exception {
        JsonNode result =
                send(
                        "Runtime.evaluate",
                        Map.of(
                                "expression",
                                expression,
                                "returnByValue",
                                true,
                                "awaitPromise",
                                true));
        if (result.has("exceptionDetails")) {
            throw new IllegalStateException(expression + ": " + result.get("exceptionDetails"));
        }
        return result.path("result").path("value");
    }

    /** Waits until the condition holds, polling the page; fails after the timeout. */
    void await(String what, Duration timeout, BooleanSupplier condition) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout + ": " + what);
            }
            Thread.sleep(200);
        }
    }

    boolean evalTrue(String expression) {
        try {
            return eval(expression).asBoolean(false);
        } catch (Exception e) {
            return false;
        }
    }

    void screenshot(Path file) throws Exception {
        JsonNode shot =
                send(
                        "Page.captureScreenshot",
                        Map.of("format", "png", "captureBeyondViewport", true));
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, Base64.getDecoder().decode(shot.path("data").asText()));
    }

    /** Every URL the page requested so far, in order. */
    List<String> requests() {
        return new ArrayList<>(requests);
    }

    private void received(String text) {
        try {
            JsonNode message = JSON.readTree(text);
            if (message.has("id")) {
                CompletableFuture<JsonNode> reply = replies.remove(message.get("id").asInt());
                if (reply != null) {
                    reply.complete(message);
                }
            } else if ("Network.requestWillBeSent".equals(message.path("method").asText())) {
                requests.add(message.path("params").path("request").path("url").asText());
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() throws Exception {
        socket.abort();
        // Its helpers (renderers, the crash handler) can outlive the browser by a moment and write
        // into the profile after it was deleted: they are stopped and waited for too.
        List<ProcessHandle> helpers = process.descendants().toList();
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        for (ProcessHandle helper : helpers) {
            helper.destroy();
            try {
                helper.onExit().get(5, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                helper.destroyForcibly();
            }
        }
        try (Stream<Path> files = Files.walk(profile)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** Joins a message's frames (a screenshot spans many) and hands each whole message over. */
    private static final class Listener implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();
        private volatile Chromium chromium;

        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                if (chromium != null) {
                    chromium.received(text);
                }
            }
            socket.request(1);
            return null;
        }
    }
}
