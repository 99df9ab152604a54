package jhot.sample.shop.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jhot.sample.shop.HelloController;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;

/**
 * Puts {@code X-Gen} (the version, asked of {@link HelloController#version()} on every request, so
 * that a redefined HelloController shows at once) and {@code X-Pid} on every answer: pages, JSON,
 * actuator, 404s and errors.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
public class GenerationHeaderFilter extends OncePerRequestFilter {
    private final String pid = Long.toString(ProcessHandle.current().pid());

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        response.setHeader("X-Gen", HelloController.version());
        response.setHeader("X-Pid", pid);
        chain.doFilter(request, response);
    }
}
