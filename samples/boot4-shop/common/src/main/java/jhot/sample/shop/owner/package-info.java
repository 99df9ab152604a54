/**
 * Owners, their pets and the pets' visits: entities, repositories, the transactional and caching
 * {@link jhot.sample.shop.owner.OwnerService}, the HTML pages under {@code /owners} and the JSON API
 * under {@code /api}.
 */
@NullMarked
package jhot.sample.shop.owner;

import org.jspecify.annotations.NullMarked;
