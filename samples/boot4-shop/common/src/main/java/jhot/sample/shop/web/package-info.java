/** Web plumbing shared by every controller: the {@code X-Gen} / {@code X-Pid} headers. */
@NullMarked
package jhot.sample.shop.web;

import org.jspecify.annotations.NullMarked;
