/** The data the shop starts with, written into the in-memory database before READY. */
@NullMarked
package jhot.sample.shop.seed;

import org.jspecify.annotations.NullMarked;
