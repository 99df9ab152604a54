package jhot.sample.shop.owner;

import org.springframework.data.jpa.repository.JpaRepository;

import java.util.List;
import java.util.Optional;

public interface PetTypeRepository extends JpaRepository<PetType, Integer> {
    List<PetType> findAllByOrderByNameAsc();

    Optional<PetType> findByName(String name);
}
