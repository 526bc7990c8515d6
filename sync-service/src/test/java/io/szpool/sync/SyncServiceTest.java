package io.szpool.sync;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.szpool.testing.KafkaResource;
import io.szpool.testing.ServiceEndpointsContract;

/** sync-service runs, sees the real broker, and answers the endpoints every service serves. */
@QuarkusTest
@WithTestResource(value = KafkaResource.class, scope = TestResourceScope.GLOBAL)
class SyncServiceTest extends ServiceEndpointsContract {}
