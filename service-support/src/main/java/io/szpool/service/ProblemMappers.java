package io.szpool.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import jakarta.ws.rs.Priorities;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Turns every exception that reaches the REST layer into problem details with a fitting status.
 * Callers never see a stack trace; unexpected failures are logged here with theirs.
 */
public class ProblemMappers {
    private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

    @ServerExceptionMapper
    public Response problem(ProblemException e) {
        return respond(e.toProblem());
    }

    // Quarkus ships a mapper for this exact type; ours must outrank it to answer problem details.
    @ServerExceptionMapper(priority = Priorities.USER - 100)
    public Response badField(MismatchedInputException e) {
        return badJson(e);
    }

    @ServerExceptionMapper(priority = Priorities.USER - 100)
    public Response badJson(JsonProcessingException e) {
        String detail =
                e instanceof MismatchedInputException m && !m.getPath().isEmpty()
                        ? "invalid value for '" + fieldPath(m) + "': " + e.getOriginalMessage()
                        : "malformed JSON body: " + e.getOriginalMessage();
        return respond(Problem.of(400, "Bad Request", detail));
    }

    @ServerExceptionMapper
    public Response web(WebApplicationException e) {
        if (e.getCause() instanceof JsonProcessingException json) {
            return badJson(json);
        }
        Response r = e.getResponse();
        int status = r == null ? 500 : r.getStatus();
        String title =
                Response.Status.fromStatusCode(status) == null
                        ? "Error"
                        : Response.Status.fromStatusCode(status).getReasonPhrase();
        return respond(Problem.of(status, title, e.getMessage()));
    }

    @ServerExceptionMapper
    public Response unexpected(Exception e) {
        LOG.error("request failed", e);
        return respond(
                Problem.of(
                        500, "Internal Server Error", "the request failed; see the service log"));
    }

    private static String fieldPath(MismatchedInputException e) {
        StringBuilder path = new StringBuilder();
        for (var ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                path.append(path.isEmpty() ? "" : ".").append(ref.getFieldName());
            } else {
                path.append('[').append(ref.getIndex()).append(']');
            }
        }
        return path.toString();
    }

    private static Response respond(Problem problem) {
        return Response.status(problem.status()).type(Problem.MEDIA_TYPE).entity(problem).build();
    }
}
