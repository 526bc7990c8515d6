package io.szpool.service;

import com.fasterxml.jackson.annotation.JsonInclude;

/** An RFC 9457 problem-details body: what every szpool error answer looks like. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(String type, String title, int status, String detail, String instance) {
    public static final String MEDIA_TYPE = "application/problem+json";

    public static Problem of(int status, String title, String detail) {
        return new Problem("about:blank", title, status, detail, null);
    }
}
