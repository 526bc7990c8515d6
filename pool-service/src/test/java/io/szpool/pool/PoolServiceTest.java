package io.szpool.pool;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.szpool.testing.KafkaResource;
import org.junit.jupiter.api.Test;

/** pool-service runs, sees the real broker, and answers the endpoints every service serves. */
@QuarkusTest
@WithTestResource(value = KafkaResource.class, scope = TestResourceScope.GLOBAL)
class PoolServiceTest {

    @Test
    void readyOnlyWithTheBroker() {
        given().get("/q/health/ready")
                .then()
                .statusCode(200)
                .body("status", equalTo("UP"))
                .body("checks.find { it.name == 'kafka-broker' }.status", equalTo("UP"));
    }

    @Test
    void servesMetricsAndOpenApi() {
        given().get("/q/metrics")
                .then()
                .statusCode(200)
                .body(containsString("jvm_memory_used_bytes"));
        given().get("/q/openapi").then().statusCode(200).body(containsString("openapi"));
    }

    @Test
    void unknownPathIsAProblemNotAStackTrace() {
        given().get("/no-such-thing")
                .then()
                .statusCode(404)
                .body(containsString("404"))
                .body(org.hamcrest.Matchers.not(containsString("Exception")));
    }
}
