package io.szpool.nbd;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Set;
import javax.net.ssl.SSLContext;

/**
 * Where and for whom a server listens: the socket address, which exports this listener may hand out
 * ({@code allowedExports}, null for every export), and TLS (none when {@code tls} is null; optional
 * for the client, or required before any option is honoured).
 */
public record ListenerConfig(
        InetSocketAddress address,
        Set<String> allowedExports,
        SSLContext tls,
        boolean tlsRequired) {

    public ListenerConfig {
        if (tlsRequired && tls == null) {
            throw new IllegalArgumentException("TLS required but no SSLContext given");
        }
        allowedExports = allowedExports == null ? null : Set.copyOf(allowedExports);
    }

    /** Every export, no TLS, on 127.0.0.1 (port 0 picks a free port). */
    public static ListenerConfig loopback(int port) {
        return new ListenerConfig(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), port), null, null, false);
    }

    public ListenerConfig withAddress(InetSocketAddress address) {
        return new ListenerConfig(address, allowedExports, tls, tlsRequired);
    }

    public ListenerConfig allowing(Set<String> exportNames) {
        return new ListenerConfig(address, exportNames, tls, tlsRequired);
    }

    public ListenerConfig withTls(SSLContext context, boolean required) {
        return new ListenerConfig(address, allowedExports, context, required);
    }

    boolean allows(String exportName) {
        return allowedExports == null || allowedExports.contains(exportName);
    }
}
