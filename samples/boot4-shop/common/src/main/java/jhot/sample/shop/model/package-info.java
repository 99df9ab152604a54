/** The mapped superclasses that the shop's JPA entities share. */
@NullMarked
package jhot.sample.shop.model;

import org.jspecify.annotations.NullMarked;
