package io.szpool.testing;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import org.junit.jupiter.api.Test;

/**
 * What every szpool service answers once it runs with the real broker: readiness that follows
 * Kafka, Prometheus metrics, OpenAPI, and problem details instead of stack traces. A service's
 * {@code @QuarkusTest} extends this to inherit the checks.
 */
public abstract class ServiceEndpointsContract {

    @Test
    public void readyOnlyWithTheBroker() {
        given().get("/q/health/ready")
                .then()
                .statusCode(200)
                .body("status", equalTo("UP"))
                .body("checks.find { it.name == 'kafka-broker' }.status", equalTo("UP"));
    }

    @Test
    public void servesMetricsAndOpenApi() {
        given().get("/q/metrics")
                .then()
                .statusCode(200)
                .body(containsString("jvm_memory_used_bytes"));
        given().get("/q/openapi").then().statusCode(200).body(containsString("openapi"));
    }

    @Test
    public void unknownPathIsAProblemNotAStackTrace() {
        given().get("/no-such-thing")
                .then()
                .statusCode(404)
                .body(containsString("404"))
                .body(org.hamcrest.Matchers.not(containsString("Exception")));
    }
}
