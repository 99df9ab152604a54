package jhot.sample.shop.vet;

import org.springframework.data.jpa.repository.EntityGraph;
import org.springframework.data.jpa.repository.JpaRepository;

import java.util.List;

public interface VetRepository extends JpaRepository<Vet, Integer> {
    @EntityGraph(attributePaths = "specialties")
    List<Vet> findAllByOrderByLastNameAscFirstNameAsc();
}
