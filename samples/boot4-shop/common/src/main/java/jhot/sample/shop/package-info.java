/**
 * boot4-shop, the jhot sample service: the application class, and (per version, in v1/, v1b/ and
 * v2/) the {@code HelloController} that answers the takeover interface ({@code /}, {@code /slow},
 * {@code /health}).
 */
@NullMarked
package jhot.sample.shop;

import org.jspecify.annotations.NullMarked;
