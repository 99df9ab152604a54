package jhot.sample.shop.vet;

import org.springframework.cache.annotation.Cacheable;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import java.util.List;
import java.util.Objects;

/** The vets, read once and then served from the "vets" cache. */
@Service
public class VetService {
    /** One vet as the page and the JSON API show it. */
    public record VetView(int id, String firstName, String lastName, List<String> specialties) {
        public String name() {
            return firstName + " " + lastName;
        }
    }

    private final VetRepository vets;

    public VetService(VetRepository vets) {
        this.vets = vets;
    }

    @Cacheable("vets")
    @Transactional(readOnly = true)
    public List<VetView> all() {
        return vets.findAllByOrderByLastNameAscFirstNameAsc().stream()
                .map(v -> new VetView(Objects.requireNonNull(v.getId()), v.getFirstName(), v.getLastName(),
                        v.getSpecialtyNames()))
                .toList();
    }
}
