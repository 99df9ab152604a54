package jhot.sample.shop.owner;

import jhot.sample.shop.owner.Views.OwnerSummary;
import jhot.sample.shop.owner.Views.OwnerView;
import jhot.sample.shop.owner.Views.PetView;
import jhot.sample.shop.owner.Views.VisitView;
import org.springframework.cache.annotation.CacheEvict;
import org.springframework.cache.annotation.Cacheable;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Reads and writes owners, pets and visits. Transactional (read-only unless a method says
 * otherwise) and caching, so the container hands out a CGLIB subclass of it.
 */
@Service
@Transactional(readOnly = true)
public class OwnerService {
    private final OwnerRepository owners;
    private final PetRepository pets;
    private final PetTypeRepository petTypes;
    private final VisitRepository visits;

    public OwnerService(OwnerRepository owners, PetRepository pets, PetTypeRepository petTypes,
                        VisitRepository visits) {
        this.owners = owners;
        this.pets = pets;
        this.petTypes = petTypes;
        this.visits = visits;
    }

    /** Owners whose last name starts with {@code lastName} (all of them for ""), by name. */
    public List<OwnerSummary> find(String lastName) {
        return owners.findByLastNameStartingWithIgnoreCaseOrderByLastNameAscFirstNameAsc(lastName).stream()
                .map(o -> new OwnerSummary(id(o.getId()), o.getFullName(), o.getCity(), o.getTelephone(),
                        o.getPets().size()))
                .toList();
    }

    @Cacheable(cacheNames = "ownerViews", key = "#id")
    public Optional<OwnerView> view(int id) {
        return owners.findWithPets(id).map(o -> {
            List<PetView> petViews = pets.findWithVisitsByOwner(id).stream()
                    .map(p -> new PetView(id(p.getId()), p.getName(),
                            p.getType() == null ? "?" : p.getType().getName(), p.getBirthDate(),
                            p.getVisits().stream().map(OwnerService::visitView).toList()))
                    .toList();
            return new OwnerView(id(o.getId()), o.getFirstName(), o.getLastName(), o.getAddress(), o.getCity(),
                    o.getTelephone(), petViews);
        });
    }

    @Cacheable("petTypes")
    public List<String> petTypes() {
        return petTypes.findAllByOrderByNameAsc().stream().map(PetType::getName).toList();
    }

    @Transactional
    @CacheEvict(cacheNames = "ownerViews", allEntries = true)
    public OwnerView create(OwnerForm form) {
        Owner o = new Owner();
        o.setFirstName(form.getFirstName());
        o.setLastName(form.getLastName());
        o.setAddress(form.getAddress());
        o.setCity(form.getCity());
        o.setTelephone(form.getTelephone());
        Owner saved = owners.save(o);
        return new OwnerView(id(saved.getId()), saved.getFirstName(), saved.getLastName(), saved.getAddress(),
                saved.getCity(), saved.getTelephone(), List.of());
    }

    /** Adds a visit to pet {@code petId}; empty if there is no such pet. */
    @Transactional
    @CacheEvict(cacheNames = "ownerViews", allEntries = true)
    public Optional<VisitView> addVisit(int petId, VisitForm form) {
        return pets.findById(petId).map(p -> {
            Visit v = new Visit();
            v.setDate(Objects.requireNonNull(form.date()));
            v.setDescription(form.description());
            p.addVisit(v);
            return visitView(visits.save(v));
        });
    }

    private static VisitView visitView(Visit v) {
        return new VisitView(id(v.getId()), v.getDate(), v.getDescription());
    }

    private static int id(Integer id) {
        return Objects.requireNonNull(id, "entity not persisted");
    }
}
