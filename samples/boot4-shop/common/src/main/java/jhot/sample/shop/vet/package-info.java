/**
 * Vets and their specialties: entities, a repository, the cached {@link jhot.sample.shop.vet.VetService}
 * and {@code /vets} as a page and as JSON.
 */
@NullMarked
package jhot.sample.shop.vet;

import org.jspecify.annotations.NullMarked;
