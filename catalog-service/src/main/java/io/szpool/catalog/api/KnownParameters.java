package io.szpool.catalog.api;

import io.szpool.service.ProblemException;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ResourceInfo;
import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Refuses a query parameter the endpoint does not take, with a 400 that names the ones it does: a
 * misspelt filter ({@code ?stat=faulted}) would otherwise be ignored and answer with the whole
 * unfiltered list, which looks like a right answer and is not.
 */
public class KnownParameters {
    private final Map<Method, Set<String>> known = new ConcurrentHashMap<>();

    @ServerRequestFilter
    public void check(ContainerRequestContext request, ResourceInfo resource) {
        Method method = resource.getResourceMethod();
        if (method == null || !method.getDeclaringClass().getPackageName().equals(pkg())) {
            return;
        }
        Set<String> allowed = known.computeIfAbsent(method, KnownParameters::queryParams);
        for (String name : request.getUriInfo().getQueryParameters().keySet()) {
            if (!allowed.contains(name)) {
                throw ProblemException.badRequest(
                        "unknown query parameter '"
                                + name
                                + "'; "
                                + (allowed.isEmpty()
                                        ? "this endpoint takes none"
                                        : "this endpoint takes " + String.join(", ", allowed)));
            }
        }
    }

    private static String pkg() {
        return KnownParameters.class.getPackageName();
    }

    private static Set<String> queryParams(Method method) {
        Set<String> names = new TreeSet<>();
        for (Parameter p : method.getParameters()) {
            QueryParam q = p.getAnnotation(QueryParam.class);
            if (q != null) {
                names.add(q.value());
            }
        }
        return names;
    }
}
